// Layering probe: nat/ must not include pbx/ (nothing outside pbx/ does)
#include "pbx/sip/message.h"
int probe_nat_sip() { return 0; }
