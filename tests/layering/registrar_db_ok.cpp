// Layering probe: registrar/ may use db/ (positive control)
#include "db/database.h"
int probe_registrar_db_ok() { return 0; }
