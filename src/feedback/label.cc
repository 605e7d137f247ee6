#include "feedback/label.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>

namespace vigil {

std::string_view LabelClassName(LabelClass c) {
  switch (c) {
    case LabelClass::kGenuine: return "genuine";
    case LabelClass::kAttack: return "attack";
    case LabelClass::kLegitimate: return "legitimate";
    case LabelClass::kFraud: return "fraud";
  }
  return "genuine";
}

std::optional<LabelClass> ParseLabelClass(std::string_view s) {
  if (s == "genuine") return LabelClass::kGenuine;
  if (s == "attack") return LabelClass::kAttack;
  if (s == "legitimate") return LabelClass::kLegitimate;
  if (s == "fraud") return LabelClass::kFraud;
  return std::nullopt;
}

FlowKind LabelKind(LabelClass c) {
  return (c == LabelClass::kGenuine || c == LabelClass::kAttack) ? FlowKind::kLiveness : FlowKind::kTransaction;
}

namespace {
template <std::size_t N>
bool In(const std::array<std::string_view, N>& set, std::string_view s) {
  return std::find(set.begin(), set.end(), s) != set.end();
}
constexpr std::array<std::string_view, 7> kAttackTypes = {"print", "screen_replay", "mask", "injection",
                                                          "virtual_camera", "deepfake", "other"};
constexpr std::array<std::string_view, 4> kFraudTypes = {"card_testing", "account_takeover", "bot", "other"};
constexpr std::array<std::string_view, 5> kSources = {"manual_review", "dispute", "chargeback", "red_team",
                                                      "customer_support"};

bool Digits(std::string_view s, std::size_t at, std::size_t n, int& out) {
  if (at + n > s.size()) return false;
  out = 0;
  for (std::size_t i = at; i < at + n; ++i) {
    if (!std::isdigit(static_cast<unsigned char>(s[i]))) return false;
    out = out * 10 + (s[i] - '0');
  }
  return true;
}

// 28-31: RFC 3339 refuses 2026-02-30, which the day count below would quietly make 2026-03-02.
int DaysInMonth(int y, int m) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return m == 2 && leap ? 29 : kDays[m - 1];
}

// Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm).
std::int64_t DaysFromCivil(int y, int m, int d) {
  y -= m <= 2;
  const int era = (y >= 0 ? y : y - 399) / 400;
  const int yoe = y - era * 400;
  const int doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return static_cast<std::int64_t>(era) * 146097 + doe - 719468;
}
}  // namespace

bool IsAttackType(std::string_view s) { return In(kAttackTypes, s); }
bool IsFraudType(std::string_view s) { return In(kFraudTypes, s); }
bool IsLabelSource(std::string_view s) { return In(kSources, s); }

std::optional<std::int64_t> ParseRfc3339Ms(std::string_view s) {
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0;
  if (!Digits(s, 0, 4, y) || s.size() < 20 || s[4] != '-' || !Digits(s, 5, 2, mo) || s[7] != '-' ||
      !Digits(s, 8, 2, d) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || !Digits(s, 11, 2, h) ||
      s[13] != ':' || !Digits(s, 14, 2, mi) || s[16] != ':' || !Digits(s, 17, 2, sec)) {
    return std::nullopt;
  }
  if (mo < 1 || mo > 12 || d < 1 || d > DaysInMonth(y, mo) || h > 23 || mi > 59 || sec > 60) return std::nullopt;
  std::size_t at = 19;
  std::int64_t ms = 0;
  if (at < s.size() && s[at] == '.') {
    ++at;
    int digits = 0;
    while (at < s.size() && std::isdigit(static_cast<unsigned char>(s[at]))) {
      if (digits < 3) ms = ms * 10 + (s[at] - '0');
      ++digits, ++at;
    }
    if (digits == 0) return std::nullopt;
    for (int i = digits; i < 3; ++i) ms *= 10;
  }
  std::int64_t offset_min = 0;
  if (at < s.size() && (s[at] == 'Z' || s[at] == 'z')) {
    ++at;
  } else if (at < s.size() && (s[at] == '+' || s[at] == '-')) {
    int oh = 0, om = 0;
    if (!Digits(s, at + 1, 2, oh) || at + 3 >= s.size() || s[at + 3] != ':' || !Digits(s, at + 4, 2, om)) {
      return std::nullopt;
    }
    if (oh > 23 || om > 59) return std::nullopt;  // RFC 3339 time-numoffset
    offset_min = (s[at] == '+' ? 1 : -1) * (oh * 60 + om);
    at += 6;
  } else {
    return std::nullopt;
  }
  if (at != s.size()) return std::nullopt;
  std::int64_t secs = DaysFromCivil(y, mo, d) * 86400 + h * 3600 + mi * 60 + std::min(sec, 59) - offset_min * 60;
  return secs * 1000 + ms;
}

}  // namespace vigil
