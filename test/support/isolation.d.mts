export declare const RUN_TMP_ENV: string;
export declare const TEST_TODAY: string;
export declare function isolateEnvironment(env: Record<string, string | undefined>): Record<string, string | undefined>;
