// Attribution records (runs, steps, tasks, tool executions): owned by the attribution issue.
export {};
