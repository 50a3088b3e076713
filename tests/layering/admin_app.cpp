// Layering probe: admin/ must not include pbx/
#include "pbx/app/config.h"
int probe_admin_app() { return 0; }
