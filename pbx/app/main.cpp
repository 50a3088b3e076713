// The daemon `duplex`; see duplex_app.h. `duplex --help` lists every option.
#include "pbx/app/duplex_app.h"

int main(int argc, char** argv) {
  return duplex::app::runDaemon(argc, argv);
}
