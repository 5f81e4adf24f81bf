//! What the three bytecode-to-C translators share: the C prelude (an error path that prints
//! `error: <message>` like the CLI and exits 1), the `main` that reads the argument, times the
//! run with a monotonic clock and reports it on stderr as `{"runMs":…}`, the way
//! `futamura run --stats=json` reports a backend's run.
//!
//! The translations are mechanical on purpose (one block of C per bytecode instruction, a label
//! per instruction address, `goto` for jumps): they show what an ahead-of-time compiler makes of
//! the same program, not what a person would write.

export const PRELUDE = `#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void fail(const char *message) {
  fflush(stdout);
  fprintf(stderr, "error: %s\\n", message);
  exit(1);
}

static double now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}
`;

/** A `main` around `body`, which runs the program; with `intResult` it prints the value as
 *  `futamura run` does for the "int" convention. */
export function cMain(body: string, intResult: boolean): string {
  return `
int main(int argc, char **argv) {
  int32_t arg = argc > 1 ? (int32_t)strtol(argv[1], 0, 10) : 0;
  (void)arg;
  double t0 = now_ms();
  ${intResult ? "int32_t result = " : ""}${body};
  double t1 = now_ms();
  ${intResult ? 'printf("%d\\n", result);\n  ' : ""}fflush(stdout);
  fprintf(stderr, "{\\"runMs\\":%.3f}\\n", t1 - t0);
  return 0;
}
`;
}

/** A C comment that cannot close early. */
export function comment(s: string): string {
  return `/* ${s.replace(/\*\//g, "* /")} */`;
}

/** `(int32_t)((uint32_t)x op (uint32_t)y)`: 32-bit wrapping arithmetic without signed overflow. */
export function wrap(x: string, op: "+" | "-" | "*", y: string): string {
  return `(int32_t)((uint32_t)(${x}) ${op} (uint32_t)(${y}))`;
}
