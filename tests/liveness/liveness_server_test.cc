// Liveness media through the real server: a good capture is analysed (quality block, media
// digest in the audit record, never the media), a poor one is a retry with guidance, and corrupt
// or oversized media is a 422 problem that writes nothing.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "liveness/test_images.h"
#include "media/media.h"
#include "support/audit_db.h"
#include "support/server_harness.h"

namespace vigil {
namespace {

using nlohmann::json;
using testing::AuditCount;
using testing::ServerProcess;

class LivenessServerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    server_ = new ServerProcess();
    ASSERT_TRUE(server_->Start({"log_level: warn\nhttp: {max_body_bytes: 4194304}\n", {}, ""})) << server_->error();
  }
  static void TearDownTestSuite() {
    EXPECT_EQ(server_->Terminate(), 0);
    delete server_;
  }
  HttpClient Client() { return HttpClient("127.0.0.1", server_->port()); }

  // A session token from POST /v1/sessions (liveness decisions need one).
  std::string Token(HttpClient& c) {
    auto s = c.PostJson("/v1/sessions", R"({"flow_type":"onboarding"})", server_->admin_key());
    EXPECT_TRUE(s.ok());
    if (!s.ok()) return "";
    EXPECT_EQ(s->status, 201) << s->body;
    auto j = json::parse(s->body, nullptr, false);
    return j.is_object() && j.contains("session_token") ? j["session_token"].get<std::string>() : "";
  }

  std::string Body(const std::string& id, const std::vector<std::string>& frames, const std::string& token,
                   const std::string& label = "FaceTime HD Camera") {
    json media = {{"capture", {{"width", 640}, {"height", 480}, {"camera_label", label}, {"sdk_version", "web-2.4.1"}}}};
    media["frames"] = json::array();
    for (std::size_t i = 0; i < frames.size(); ++i) {
      media["frames"].push_back({{"data", media::Base64Encode(frames[i])}, {"timestamp_ms", 1000 + 33 * i + i % 2}});
    }
    json body = {{"request_id", id}, {"flow_type", "onboarding"}, {"context", {{"platform", "web"}}},
                 {"signals", {{"passive", 0.97}}}, {"media", media}};
    if (!token.empty()) body["session_token"] = token;
    return body.dump();
  }
  static ServerProcess* server_;
};
ServerProcess* LivenessServerTest::server_ = nullptr;

std::vector<std::string> LiveFrames(cv::Mat (*degrade)(const cv::Mat&) = nullptr) {
  std::vector<std::string> v;
  for (int i = 0; i < 3; ++i) {
    cv::Mat f = testing::Noisy(testing::Shift(testing::Portrait(), 3.0 * i, 1.0 * i), i + 1);
    v.push_back(testing::EncodeJpeg(degrade ? degrade(f) : f));
  }
  return v;
}

TEST_F(LivenessServerTest, GoodCaptureIsAnalysedAndOnlyItsDigestAudited) {
  auto c = Client();
  const std::string body = Body("lv_good_1", LiveFrames(), Token(c));
  auto r = c.PostJson("/v1/decisions", body, server_->admin_key());
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->status, 200) << r->body;
  // No quality reason: the capture is usable. A photograph cannot perform the session's head-turn
  // challenge, so with BlazeFace's keypoints the challenge fails (a retry, never spoof).
  for (const char* code : {"NO_FACE", "BLURRY", "TOO_DARK", "TOO_BRIGHT", "BACKLIT", "FACE_TOO_SMALL",
                           "FACE_OFF_CENTER", "LOW_RESOLUTION", "MULTIPLE_FACES", "STATIC_IMAGE_REPLAY"}) {
    EXPECT_EQ(r->body.find(code), std::string::npos) << code << ": " << r->body;
  }
  auto g = c.Get("/v1/decisions/lv_good_1", {{"Authorization", "Bearer " + server_->admin_key()}});
  ASSERT_TRUE(g.ok());
  ASSERT_EQ(g->status, 200) << g->body;
  auto rec = json::parse(g->body)["record"];
  const std::string rec_text = rec.dump();
  EXPECT_NE(rec_text.find("media_sha256"), std::string::npos) << rec_text;
  EXPECT_NE(rec_text.find("blur_score"), std::string::npos) << rec_text;
  EXPECT_NE(rec_text.find("\"detector\""), std::string::npos) << rec_text;
  // No frame data in the record: not even the first 40 base64 characters of one.
  const std::string first = json::parse(body)["media"]["frames"][0]["data"].get<std::string>().substr(0, 40);
  EXPECT_EQ(rec_text.find(first), std::string::npos);
}

TEST_F(LivenessServerTest, DarkCaptureIsARetryWithGuidance) {
  auto c = Client();
  auto r = c.PostJson("/v1/decisions", Body("lv_dark_1", LiveFrames([](const cv::Mat& m) { return testing::Darken(m); }), Token(c)),
                      server_->admin_key());
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->status, 200) << r->body;
  auto j = json::parse(r->body);
  EXPECT_EQ(j["decision"], "retry") << r->body;
  EXPECT_NE(r->body.find("TOO_DARK"), std::string::npos) << r->body;
}

TEST_F(LivenessServerTest, VirtualCameraFails) {
  auto c = Client();
  auto r = c.PostJson("/v1/decisions", Body("lv_vcam_1", LiveFrames(), Token(c), "OBS Virtual Camera"), server_->admin_key());
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(json::parse(r->body)["decision"], "fail") << r->body;
  EXPECT_NE(r->body.find("VIRTUAL_CAMERA"), std::string::npos);
}

TEST_F(LivenessServerTest, CorruptAndOversizedMediaAre422AndWriteNothing) {
  auto c = Client();
  const auto before = AuditCount(server_->data_dir());
  ASSERT_GE(before, 0);
  // Corrupt media is refused before the session check: the token stays usable.
  const std::string token = Token(c);
  struct Case {
    std::string id, body, type;
  };
  std::string body = Body("lv_bad_b64", LiveFrames(), token);
  auto j = json::parse(body);
  j["media"]["frames"][0]["data"] = "@@@not-base64@@@";
  std::vector<Case> cases;
  cases.push_back({"lv_bad_b64", j.dump(), "invalid-media"});
  std::string jpeg = LiveFrames()[0];
  cases.push_back({"lv_trunc", Body("lv_trunc", {jpeg.substr(0, jpeg.size() / 3)}, ""), "invalid-media"});
  cases.push_back({"lv_gif", Body("lv_gif", {"GIF89a" + std::string(200, 'x')}, ""), "invalid-media"});
  cv::Mat huge(2000, 2100, CV_8UC3, cv::Scalar::all(7));
  cases.push_back({"lv_huge", Body("lv_huge", {testing::EncodeJpeg(huge, 20)}, ""), "media-out-of-bounds"});
  cases.push_back({"lv_many", Body("lv_many", std::vector<std::string>(9, jpeg), ""), "media-out-of-bounds"});
  json txn = {{"request_id", "lv_txn"}, {"flow_type", "transaction_approval"}, {"media", json::parse(body)["media"]}};
  cases.push_back({"lv_txn", txn.dump(), "invalid-value"});
  for (const auto& cs : cases) {
    auto r = c.PostJson("/v1/decisions", cs.body, server_->admin_key());
    ASSERT_TRUE(r.ok()) << cs.id;
    EXPECT_EQ(r->status, 422) << cs.id << ": " << r->body;
    auto p = json::parse(r->body, nullptr, false);
    ASSERT_TRUE(p.is_object()) << r->body;
    EXPECT_EQ(p["type"], "urn:vigil:problem:" + cs.type) << cs.id << ": " << r->body;
  }
  EXPECT_EQ(AuditCount(server_->data_dir()), before);
  auto ok = c.PostJson("/v1/decisions", Body("lv_after_bad", LiveFrames(), token), server_->admin_key());
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->status, 200) << ok->body;
  EXPECT_EQ(ok->body.find("TOKEN_REPLAYED"), std::string::npos) << ok->body;
  EXPECT_EQ(AuditCount(server_->data_dir()), before + 1);
}

}  // namespace
}  // namespace vigil
