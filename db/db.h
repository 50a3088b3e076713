// db: the Duplex PBX database (SQLite). Everything a user of the component
// needs: open a Database, create the SQLite repositories over it, hand the
// repository interfaces to the code that needs them.
//
//   db::Database database(dataDir + "/duplex.db");   // migrates, or throws
//   db::SqliteExtensionRepository extensions(database);
//   registrar::Registrar registrar(extensions, ...);  // holds the interface
//
// Threads: a Database (one SQLite connection) and every Statement, Transaction
// and repository made from it belong to ONE thread, the one that uses them;
// never share them. Each thread that touches the database opens its own
// Database on the same file: the daemon's start-up code, the admin API's
// handlers, and the registrar's binding write-behind thread (which reuses its
// prepared statements for every batch). WAL mode lets readers run while one
// writer commits; concurrent writers wait up to the busy timeout (5 s).
// Nothing here may run on the SIP loop: a commit can wait for disk.
//
// Errors: DbError and its subclasses (db/error.h), thrown; see each header.
#pragma once

#include "db/binding_repository.h"
#include "db/call_record_repository.h"
#include "db/database.h"
#include "db/error.h"
#include "db/extension_repository.h"
#include "db/migrations.h"
#include "db/secret_repository.h"
#include "db/settings_repository.h"
#include "db/sqlite_repositories.h"
#include "db/trunk_repository.h"
