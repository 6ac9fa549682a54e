/** Task execution modes of the reference platform (the `mode` tag); the factories and the threshold profiles both read them. */
export const TASK_MODES = ['collaborative', 'autonomous', 'continuous', 'scheduled'] as const;
export type TaskMode = (typeof TASK_MODES)[number];
