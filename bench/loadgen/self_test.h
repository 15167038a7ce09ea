#pragma once

namespace braid::bench {

// Checks the generator against an in-process HTTP server: request counts, error counting, and
// that a server stall shows in the latencies of every request scheduled during it (coordinated
// omission corrected), not only in the few that were in flight. Prints each check; returns the
// number that failed.
int runSelfTest();

}  // namespace braid::bench
