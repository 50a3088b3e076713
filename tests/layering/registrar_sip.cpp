// Layering probe: registrar/ knows no SIP syntax
#include "pbx/sip/message.h"
int probe_registrar_sip() { return 0; }
