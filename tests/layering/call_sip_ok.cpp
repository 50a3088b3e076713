// Layering probe: pbx/call/ may use pbx/sip/ (positive control)
#include "pbx/sip/message.h"
int probe_call_sip_ok() { return 0; }
