#include "control-plane/ca/mesh_ca.h"

#include <algorithm>
#include <cstdint>
#include <limits>

#include "common/clock.h"
#include "common/spiffe/spiffe_id.h"
#include "control-plane/ca/mesh_ca_internal.h"

namespace braid::ca {
namespace {

constexpr auto kClockSkew = std::chrono::seconds(60);
constexpr auto kDefaultLifetime = std::chrono::hours(24);

std::string str(const Json& object, const char* field) {
  return object.is_object() && object.contains(field) && object.at(field).is_string()
             ? object.at(field).get<std::string>()
             : std::string();
}

// mtls.backends, or an empty array.
Json backendsOf(const Json& meshJson) {
  if (!meshJson.is_object() || !meshJson.contains("mtls")) return Json::array();
  const Json& mtls = meshJson.at("mtls");
  if (!mtls.is_object() || !mtls.contains("backends") || !mtls.at("backends").is_array()) {
    return Json::array();
  }
  return mtls.at("backends");
}

bool meshName(const Json& meshJson, std::string& mesh, std::string& error) {
  mesh = str(meshJson, "name");
  if (mesh.empty()) error = "the Mesh has no name";
  return !mesh.empty();
}

// The backend's dpCert.rotation.expiration, default 24h, rounded up to whole seconds (what a
// certificate's validity can say).
bool leafLifetime(const Json& backend, std::chrono::seconds& lifetime, std::string& error) {
  lifetime = kDefaultLifetime;
  const Json* node = &backend;
  for (const char* field : {"dpCert", "rotation", "expiration"}) {
    if (!node->is_object() || !node->contains(field)) return true;
    node = &node->at(field);
  }
  auto parsed = node->is_string() ? parseKumaDuration(node->get<std::string>()) : std::nullopt;
  if (!parsed || *parsed <= std::chrono::nanoseconds(0)) {
    error = "dpCert.rotation.expiration: must be a positive duration such as 24h";
    return false;
  }
  lifetime = std::chrono::ceil<std::chrono::seconds>(*parsed);
  return true;
}

}  // namespace

MeshCa::MeshCa(store::Store& store) : store_(store) {}
MeshCa::~MeshCa() = default;

std::shared_ptr<const LoadedCa> MeshCa::backendCa(const std::string& mesh, const Json& backend,
                                                  TimePoint now, std::string& error) {
  const std::string name = str(backend, "name");
  const std::string type = str(backend, "type");
  const std::string prefix = "mesh " + mesh + ": backend " + name + ": ";
  const std::string builtinWhere = "builtin root " + (kBuiltinRootPrefix + name) + ": ";
  std::string certPem, keyPem, why;
  if (!readCaMaterial(store_, mesh, backend, now, certPem, keyPem, why)) {
    error = prefix + why;
    return nullptr;
  }
  const std::string hash = materialHash(type, certPem, keyPem);
  const auto cacheKey = std::make_pair(mesh, name);
  std::shared_ptr<const LoadedCa> ca;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = cache_.find(cacheKey);
    if (it != cache_.end() && it->second.hash == hash) ca = it->second.ca;
  }
  if (!ca) {
    // Parsed outside the lock: two threads may both parse the same material, harmlessly.
    auto loaded = std::make_shared<LoadedCa>();
    if (!parseCa(certPem, keyPem, *loaded, why)) {
      error = prefix + (type == "builtin" ? builtinWhere : std::string()) + why;
      return nullptr;
    }
    ca = loaded;
    std::lock_guard<std::mutex> lock(mu_);
    cache_[cacheKey] = CacheEntry{hash, ca};
  }
  // Checked on every call: a cached CA expires too.
  if (now >= ca->notAfter) {
    error = prefix + (type == "builtin" ? builtinWhere : std::string("conf.cert: ")) +
            "the CA certificate expired at " + formatRfc3339(ca->notAfter);
    return nullptr;
  }
  return ca;
}

bool MeshCa::trustedRoots(const Json& meshJson, std::vector<std::string>& rootsPem,
                          std::string& error) {
  return trustedRoots(meshJson, rootsPem, error, std::chrono::system_clock::now());
}

bool MeshCa::trustedRoots(const Json& meshJson, std::vector<std::string>& rootsPem,
                          std::string& error, TimePoint now) {
  rootsPem.clear();
  std::string mesh;
  if (!meshName(meshJson, mesh, error)) return false;
  std::vector<std::string> roots;
  for (const Json& backend : backendsOf(meshJson)) {
    std::shared_ptr<const LoadedCa> ca = backendCa(mesh, backend, now, error);
    if (!ca) return false;
    roots.push_back(ca->certPem);
  }
  rootsPem = std::move(roots);
  return true;
}

bool MeshCa::issue(const Json& meshJson, const std::string& csrPem,
                   const std::vector<std::string>& services, std::vector<IssuedSvid>& out,
                   std::string& backend, std::string& error) {
  return issue(meshJson, csrPem, services, out, backend, error, std::chrono::system_clock::now());
}

bool MeshCa::issue(const Json& meshJson, const std::string& csrPem,
                   const std::vector<std::string>& services, std::vector<IssuedSvid>& out,
                   std::string& backend, std::string& error, TimePoint now) {
  out.clear();
  backend.clear();
  std::string mesh;
  if (!meshName(meshJson, mesh, error)) return false;
  const std::string enabled =
      meshJson.contains("mtls") ? str(meshJson.at("mtls"), "enabledBackend") : std::string();
  if (enabled.empty()) {
    error = "mesh " + mesh + ": mTLS is not enabled (no mtls.enabledBackend)";
    return false;
  }
  const Json backends = backendsOf(meshJson);
  auto chosen = std::find_if(backends.begin(), backends.end(),
                             [&](const Json& b) { return str(b, "name") == enabled; });
  if (chosen == backends.end()) {
    error = "mesh " + mesh + ": enabledBackend " + enabled + " is not one of its backends";
    return false;
  }
  std::chrono::seconds lifetime;
  std::string why;
  if (!leafLifetime(*chosen, lifetime, why)) {
    error = "mesh " + mesh + ": backend " + enabled + ": " + why;
    return false;
  }
  PkeyPtr subjectKey = csrPublicKey(csrPem, why);
  if (!subjectKey) {
    error = "mesh " + mesh + ": " + why;
    return false;
  }
  // One certificate per distinct service, each with its checked SPIFFE ID.
  std::vector<std::pair<std::string, std::string>> identities;  // (service, spiffe ID)
  for (const std::string& service : services) {
    if (std::any_of(identities.begin(), identities.end(),
                    [&](const auto& i) { return i.first == service; })) {
      continue;
    }
    std::string id;
    if (!spiffe::serviceSpiffeId(mesh, service, id, why)) {
      error = "mesh " + mesh + ": service '" + service.substr(0, 64) + "': " + why;
      return false;
    }
    identities.emplace_back(service, id);
  }
  if (identities.empty()) {
    error = "mesh " + mesh + ": no service to issue a certificate for";
    return false;
  }
  std::shared_ptr<const LoadedCa> ca = backendCa(mesh, *chosen, now, error);
  if (!ca) return false;

  SvidSpec spec;
  spec.mesh = mesh;
  spec.notBefore = now - kClockSkew;
  // Compared in seconds first: a lifetime of centuries must not overflow the clock.
  const auto remaining = std::chrono::duration_cast<std::chrono::seconds>(ca->notAfter - now);
  spec.notAfter = lifetime < remaining ? now + lifetime : ca->notAfter;
  std::vector<IssuedSvid> issued;
  for (const auto& [service, id] : identities) {
    spec.service = service;
    spec.spiffeId = id;
    X509Ptr leaf = issueSvid(*ca, subjectKey.get(), spec, why);
    IssuedSvid svid;
    if (!leaf || !certValidity(leaf.get(), svid.notBefore, svid.notAfter)) {
      error = "mesh " + mesh + ": backend " + enabled + ": " +
              (leaf ? "cannot read the issued certificate's validity" : why);
      return false;
    }
    svid.service = service;
    svid.certChainPem = certToPem(leaf.get()) + (ca->selfSigned ? "" : ca->certPem);
    issued.push_back(std::move(svid));
  }
  out = std::move(issued);
  backend = enabled;
  return true;
}

std::optional<std::chrono::nanoseconds> parseKumaDuration(std::string_view text) {
  if (text == "0") return std::chrono::nanoseconds(0);
  size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
  if (digits == 0 || digits > 18) return std::nullopt;  // 18 digits cannot overflow int64 alone
  const std::string_view unit = text.substr(digits);
  constexpr int64_t kSecond = 1000000000LL;
  int64_t nanos = 0;
  if (unit == "ms") {
    nanos = 1000000LL;
  } else if (unit == "s") {
    nanos = kSecond;
  } else if (unit == "m") {
    nanos = 60 * kSecond;
  } else if (unit == "h") {
    nanos = 3600 * kSecond;
  } else if (unit == "d") {
    nanos = 86400 * kSecond;
  } else if (unit == "w") {
    nanos = 7 * 86400 * kSecond;
  } else if (unit == "y") {
    nanos = 365 * 86400 * kSecond;
  } else {
    return std::nullopt;
  }
  int64_t value = 0;
  for (size_t i = 0; i < digits; ++i) value = value * 10 + (text[i] - '0');
  if (value > std::numeric_limits<int64_t>::max() / nanos) return std::nullopt;
  return std::chrono::nanoseconds(value * nanos);
}

}  // namespace braid::ca
