// Files built into the binary (admin/embed_assets.cmake): the web page
// (admin/web/) and the OpenAPI document (admin/openapi.json). For: the admin
// server (static files at /, /app.js, /style.css) and the openapi route.
// Any thread; constant data.
#pragma once

#include <string_view>

namespace duplex::admin {

struct Asset {
  std::string_view name;  // "index.html", "app.js", "style.css", "openapi.json"
  std::string_view contentType;
  std::string_view body;
};

// nullptr for an unknown name.
const Asset* findAsset(std::string_view name);

}  // namespace duplex::admin
