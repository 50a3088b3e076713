// Layering probe: pbx/sip/ is protocol only: no db
#include "db/database.h"
int probe_sip_db() { return 0; }
