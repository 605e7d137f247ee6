// The label store: duplicates, conflicts, the label in force, persistence across reopen.
#include <gtest/gtest.h>

#include <filesystem>
#include <random>
#include <thread>

#include "feedback/label_store.h"

namespace vigil {
namespace {

std::string FreshDir() {
  std::random_device rd;
  auto d = std::filesystem::temp_directory_path() / ("vigil-labels-" + std::to_string(rd()));
  std::filesystem::create_directories(d);
  return d.string();
}

Label Make(const std::string& id, LabelClass c, const std::string& type, const std::string& source, std::int64_t at) {
  Label l;
  l.request_id = id;
  l.label = c;
  l.attack_type = type;
  l.source = source;
  l.labelled_at_ms = at;
  l.received_at_ms = at;
  return l;
}

TEST(LabelStore, DuplicateConflictAndInForce) {
  const std::string dir = FreshDir();
  {
    auto s = LabelStore::Open(dir, "normal");
    ASSERT_TRUE(s.ok()) << s.error().ToString();
    auto a = (*s)->Put(Make("r1", LabelClass::kAttack, "print", "manual_review", 1000));
    ASSERT_TRUE(a.ok());
    EXPECT_FALSE(a->duplicate);
    EXPECT_FALSE(a->stored.conflict);
    auto dup = (*s)->Put(Make("r1", LabelClass::kAttack, "print", "manual_review", 5000));
    ASSERT_TRUE(dup.ok());
    EXPECT_TRUE(dup->duplicate);
    EXPECT_EQ(dup->history, 1);
    // Same label from another source: history grows, no conflict.
    auto agree = (*s)->Put(Make("r1", LabelClass::kAttack, "print", "red_team", 2000));
    ASSERT_TRUE(agree.ok());
    EXPECT_FALSE(agree->stored.conflict);
    // Another attack type is a conflict.
    auto other = (*s)->Put(Make("r1", LabelClass::kAttack, "mask", "dispute", 3000));
    ASSERT_TRUE(other.ok());
    EXPECT_TRUE(other->stored.conflict);
    EXPECT_EQ(other->in_force.attack_type, "mask");
    // An older label arriving late conflicts but does not take over.
    auto late = (*s)->Put(Make("r1", LabelClass::kGenuine, "", "customer_support", 500));
    ASSERT_TRUE(late.ok());
    EXPECT_TRUE(late->stored.conflict);
    EXPECT_EQ(late->in_force.attack_type, "mask");
    EXPECT_EQ(late->history, 4);
    EXPECT_EQ((*s)->conflicts(), 2);
    EXPECT_EQ((*s)->count(), 4);
    ASSERT_TRUE((*s)->Put(Make("r2", LabelClass::kFraud, "", "chargeback", 100)).ok());
  }
  auto s = LabelStore::Open(dir);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ((*s)->conflicts(), 2);
  EXPECT_EQ((*s)->count(), 5);
  std::vector<Label> in_force;
  ASSERT_TRUE((*s)->ForEachInForce([&](const Label& l) { in_force.push_back(l); }).ok());
  ASSERT_EQ(in_force.size(), 2u);
  EXPECT_EQ(in_force[0].request_id, "r1");
  EXPECT_EQ(in_force[0].attack_type, "mask");
  EXPECT_EQ(in_force[1].label, LabelClass::kFraud);
  auto h = (*s)->History("r1");
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->size(), 4u);
  std::filesystem::remove_all(dir);
}

TEST(LabelStore, ConcurrentPutsOfTheSameLabelStoreOne) {
  const std::string dir = FreshDir();
  auto s = LabelStore::Open(dir, "normal");
  ASSERT_TRUE(s.ok());
  std::vector<std::thread> threads;
  std::atomic<int> stored{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 20; ++i) {
        auto r = (*s)->Put(Make("c" + std::to_string(i), LabelClass::kFraud, "", "dispute", 10));
        if (r.ok() && !r->duplicate) ++stored;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(stored.load(), 20);
  EXPECT_EQ((*s)->count(), 20);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace vigil
