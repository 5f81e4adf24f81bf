//! A command line that asks for what cannot be: a wrong option, a missing argument, an unknown
//! name. Every command's parser throws it; the CLI prints `usage: <message>` and exits 2. Apart
//! from the CLI so that the commands in folders of their own (fuzz, bench) need not import it.

export class UsageError extends Error {}
