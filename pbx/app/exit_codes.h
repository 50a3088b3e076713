// Exit codes of the daemon `duplex` (the BSD sysexits.h values, which Poco's
// Application::ExitCode also uses). Documented in --help and the README.
#pragma once

namespace duplex::app {

inline constexpr int kExitOk = 0;            // stopped cleanly (SIGTERM/SIGINT), or --help etc.
inline constexpr int kExitUnavailable = 69;  // a port is in use or the address is not local
inline constexpr int kExitSoftware = 70;     // any other start-up failure (a bug: see the log)
inline constexpr int kExitCantCreate =
    73;                                  // data dir, database or log file cannot be created/opened
inline constexpr int kExitDataErr = 65;  // the database could not be migrated
inline constexpr int kExitConfig = 78;   // bad configuration: file or command line

}  // namespace duplex::app
