/** Types for jstat, which ships none: the one function agentload uses (Student's t quantile). */
declare module 'jstat' {
  const jStat: { studentt: { inv(p: number, dof: number): number } };
  export default jStat;
}
