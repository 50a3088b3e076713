// Layering probe: media/ must not include db/ (DESIGN.md: bottom layer)
#include "db/database.h"
int probe_media_db() { return 0; }
