// Layering probe: db/ depends on no component
#include "pbx/sip/message.h"
int probe_db_sip() { return 0; }
