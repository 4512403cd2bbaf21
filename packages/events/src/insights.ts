// Insight records: owned by the insights issue.
export {};
