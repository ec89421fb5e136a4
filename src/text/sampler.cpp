// Sampler: the sampling chain over one row of logits.
#include "text/sampler.h"

#include <algorithm>
#include <cmath>
#include <unordered_map>

namespace aigc {

Sampler::Sampler(SamplingParams params, int n_vocab)
    : params_(std::move(params)), n_vocab_(n_vocab), rng_state_(params_.seed) {}

void Sampler::reset() {
  recent_.clear();
  rng_state_ = params_.seed;
}

void Sampler::accept(int32_t token) {
  if (params_.penalty_last_n <= 0) return;
  recent_.push_back(token);
  while (int(recent_.size()) > params_.penalty_last_n) recent_.pop_front();
}

double Sampler::next_uniform() {
  // SplitMix64, then the top 53 bits as a double in [0, 1).
  uint64_t z = (rng_state_ += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  z ^= z >> 31;
  return double(z >> 11) * (1.0 / 9007199254740992.0);
}

int32_t Sampler::sample(const float* logits, const std::vector<bool>* allowed) {
  candidates_.clear();
  for (int32_t i = 0; i < n_vocab_; ++i)
    if (!allowed || (*allowed)[size_t(i)]) candidates_.emplace_back(logits[i], i);
  if (candidates_.empty()) return -1;

  if (!params_.logit_bias.empty()) {
    std::unordered_map<int32_t, float> bias;
    for (const auto& [id, b] : params_.logit_bias) bias[id] += b;
    for (auto& [logit, id] : candidates_) {
      auto it = bias.find(id);
      if (it != bias.end()) logit += it->second;
    }
  }
  const bool penalize = params_.repeat_penalty != 1.0f || params_.presence_penalty != 0.0f ||
                        params_.frequency_penalty != 0.0f;
  if (penalize && !recent_.empty()) {
    std::unordered_map<int32_t, int> count;
    for (int32_t t : recent_) ++count[t];
    for (auto& [logit, id] : candidates_) {
      auto it = count.find(id);
      if (it == count.end()) continue;
      logit = logit > 0 ? logit / params_.repeat_penalty : logit * params_.repeat_penalty;
      logit -= float(it->second) * params_.frequency_penalty + params_.presence_penalty;
    }
  }

  // Highest logit first; ties broken by the lower id, so the order is total.
  auto by_logit = [](const std::pair<float, int32_t>& a, const std::pair<float, int32_t>& b) {
    return a.first > b.first || (a.first == b.first && a.second < b.second);
  };
  if (params_.temperature <= 0.0f) return std::min_element(candidates_.begin(), candidates_.end(), by_logit)->second;

  size_t n = candidates_.size();
  if (params_.top_k > 0 && size_t(params_.top_k) < n) {
    std::partial_sort(candidates_.begin(), candidates_.begin() + params_.top_k, candidates_.end(), by_logit);
    n = size_t(params_.top_k);
  } else {
    std::sort(candidates_.begin(), candidates_.end(), by_logit);
  }
  candidates_.resize(n);

  // Probabilities at temperature 1 for the top-p and min-p cut-offs.
  std::vector<double> p(n);
  const double max_logit = candidates_[0].first;
  double sum = 0;
  for (size_t i = 0; i < n; ++i) sum += p[i] = std::exp(double(candidates_[i].first) - max_logit);
  if (params_.top_p < 1.0f) {
    double cum = 0;
    size_t keep = n;
    for (size_t i = 0; i < n; ++i) {
      cum += p[i] / sum;
      if (cum >= params_.top_p) {
        keep = i + 1;
        break;
      }
    }
    n = keep;
  }
  if (params_.min_p > 0.0f) {
    size_t keep = 1;
    while (keep < n && p[keep] >= params_.min_p * p[0]) ++keep;  // p[0] is the largest
    n = keep;
  }

  // Softmax at the temperature over the survivors, then one draw.
  sum = 0;
  for (size_t i = 0; i < n; ++i)
    sum += p[i] = std::exp((double(candidates_[i].first) - max_logit) / double(params_.temperature));
  double r = next_uniform() * sum;
  for (size_t i = 0; i < n; ++i) {
    r -= p[i];
    if (r < 0) return candidates_[i].second;
  }
  return candidates_[n - 1].second;
}

}  // namespace aigc
