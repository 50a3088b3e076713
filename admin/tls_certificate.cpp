#include "admin/tls_certificate.h"

#include <fcntl.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <stdexcept>

namespace duplex::admin {
namespace {

template <class T, void (*Free)(T*)>
struct Deleter {
  void operator()(T* p) const { Free(p); }
};
using Key = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using Cert = std::unique_ptr<X509, Deleter<X509, X509_free>>;
using Ext = std::unique_ptr<X509_EXTENSION, Deleter<X509_EXTENSION, X509_EXTENSION_free>>;

[[noreturn]] void fail(const std::string& what) {
  throw std::runtime_error("cannot generate the admin certificate: " + what);
}

void writePem(const std::string& path, mode_t mode, bool key, EVP_PKEY* pkey, X509* cert) {
  const std::string temp = path + ".tmp";
  ::unlink(temp.c_str());
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) throw std::runtime_error("cannot create " + temp + ": " + std::strerror(errno));
  FILE* file = ::fdopen(fd, "w");
  if (!file) {
    ::close(fd);
    throw std::runtime_error("cannot open " + temp + ": " + std::strerror(errno));
  }
  const int ok = key ? PEM_write_PrivateKey(file, pkey, nullptr, nullptr, 0, nullptr, nullptr)
                     : PEM_write_X509(file, cert);
  const bool closed = std::fclose(file) == 0;
  if (ok != 1 || !closed || ::rename(temp.c_str(), path.c_str()) != 0) {
    ::unlink(temp.c_str());
    throw std::runtime_error("cannot write " + path);
  }
}

}  // namespace

bool ensureSelfSignedCertificate(const std::string& certFile, const std::string& keyFile,
                                 const std::string& hostName) {
  std::error_code ec;
  const bool haveCert = std::filesystem::exists(certFile, ec);
  const bool haveKey = std::filesystem::exists(keyFile, ec);
  if (haveCert && haveKey) return false;
  if (haveCert != haveKey) {
    throw std::runtime_error("admin certificate: " + (haveCert ? certFile : keyFile) +
                             " exists but " + (haveCert ? keyFile : certFile) +
                             " does not; provide both or remove both to have a new pair made");
  }
  Key key(EVP_EC_gen("P-256"));
  if (!key) fail("EC key generation failed");
  Cert cert(X509_new());
  if (!cert) fail("X509_new failed");
  X509_set_version(cert.get(), 2);
  unsigned char serial[16];
  std::FILE* urandom = std::fopen("/dev/urandom", "rb");
  if (!urandom || std::fread(serial, 1, sizeof serial, urandom) != sizeof serial) {
    if (urandom) std::fclose(urandom);
    fail("cannot read /dev/urandom");
  }
  std::fclose(urandom);
  serial[0] &= 0x7f;  // positive (RFC 5280 4.1.2.2)
  BIGNUM* bn = BN_bin2bn(serial, sizeof serial, nullptr);
  BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert.get()));
  BN_free(bn);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 10L * 365 * 24 * 3600);
  X509_set_pubkey(cert.get(), key.get());
  X509_NAME* name = X509_get_subject_name(cert.get());
  const std::string cn = hostName.substr(0, 64);
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>("Duplex PBX"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  X509_set_issuer_name(cert.get(), name);
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert.get(), cert.get(), nullptr, nullptr, 0);
  const std::string san = "DNS:" + cn + ",DNS:localhost,IP:127.0.0.1,IP:::1";
  for (const auto& [nid, value] : {std::pair{NID_subject_alt_name, san},
                                   std::pair{NID_basic_constraints, std::string("CA:FALSE")},
                                   std::pair{NID_ext_key_usage, std::string("serverAuth")}}) {
    Ext ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str()));
    if (!ext || X509_add_ext(cert.get(), ext.get(), -1) != 1) fail("cannot add an extension");
  }
  if (X509_sign(cert.get(), key.get(), EVP_sha256()) == 0) fail("signing failed");
  writePem(keyFile, 0600, true, key.get(), nullptr);
  writePem(certFile, 0644, false, nullptr, cert.get());
  return true;
}

}  // namespace duplex::admin
