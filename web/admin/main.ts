// Placeholder for the operator dashboard (issue 12).
export {};
