export declare const YOUNG_GENERATION_FLAGS: readonly string[];
export declare function youngGenerationFlags(env: Readonly<Record<string, string | undefined>>): readonly string[];
