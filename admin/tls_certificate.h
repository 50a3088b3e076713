// The admin HTTPS server's certificate: generated self-signed at first start
// (ECDSA P-256, SHA-256, ten years, subjectAltName with the host name,
// localhost, 127.0.0.1 and ::1) when the files do not exist; an admin
// replaces them with their own and restarts. For: the daemon's start-up
// (pbx/app). Main thread. Errors: std::runtime_error naming the file.
#pragma once

#include <string>

namespace duplex::admin {

// True if it generated the pair; false if both files were there already.
// The key file is written with mode 0600.
bool ensureSelfSignedCertificate(const std::string& certFile, const std::string& keyFile,
                                 const std::string& hostName);

}  // namespace duplex::admin
