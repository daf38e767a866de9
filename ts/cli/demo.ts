// demo: filled in once loaders and evaluation land
export async function demoCommand(args: string[]): Promise<void> { void args; throw new Error('demo not ready'); }
