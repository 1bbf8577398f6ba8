// SPDX-License-Identifier: MIT
#include "cache/ban_list.h"

namespace cache {
namespace {

bool has_token(std::string_view list, std::string_view token) {
  while (!list.empty()) {
    const size_t sp = list.find(' ');
    if (list.substr(0, sp) == token) return true;
    if (sp == std::string_view::npos) break;
    list.remove_prefix(sp + 1);
  }
  return false;
}

}  // namespace

bool Ban::matches(const StoredHead& head) const {
  if (by_tag) return !tag.empty() && has_token(head.tags(), tag);
  if (!host.empty() && head.host() != host) return false;
  return head.path().starts_with(prefix);
}

void BanList::add(Ban ban) {
  std::lock_guard lock(write_mu_);
  auto next = std::make_shared<List>(*list_.load());
  const uint64_t seq = ban.sequence;
  next->push_back(std::move(ban));
  list_.store(std::move(next));
  newest_.store(seq, std::memory_order_release);
}

bool BanList::banned(const Object& obj) const {
  if (obj.sequence() >= newest_.load(std::memory_order_acquire)) return false;
  const std::shared_ptr<const List> list = list_.load();
  for (auto it = list->rbegin(); it != list->rend() && it->sequence > obj.sequence(); ++it)
    if (it->matches(obj.head())) return true;
  return false;
}

void BanList::trim(uint64_t oldest) {
  std::lock_guard lock(write_mu_);
  const std::shared_ptr<const List> cur = list_.load();
  size_t drop = 0;
  while (drop < cur->size() && (*cur)[drop].sequence <= oldest) ++drop;
  if (drop == 0) return;
  list_.store(
      std::make_shared<const List>(cur->begin() + static_cast<ptrdiff_t>(drop), cur->end()));
}

size_t BanList::size() const {
  return list_.load()->size();
}

}  // namespace cache
