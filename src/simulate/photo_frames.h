// Camera frames made from real photographs: the simulator's `--media` frames and the liveness
// tests' images. The photographs come from Debian's python3-skimage data (astronaut.png: Eileen
// Collins, NASA, public domain; coffee.png: a cup of coffee, no face); the degradations are the
// capture trouble and presentation attacks people meet in the field. Drawings are not faces:
// every face here is a photograph.
#pragma once

#include <opencv2/core.hpp>

#include <string>

namespace vigil::sim {

// Where Debian's python3-skimage keeps its sample images.
inline constexpr const char* kSkimageDataDir = "/usr/lib/python3/dist-packages/skimage/data";

// A 640x480 selfie-like frame: the astronaut's face centred, about a third of the width.
cv::Mat Portrait(const cv::Mat& astronaut);
// 640x480 of the coffee photograph: a frame without a face.
cv::Mat NoFace(const cv::Mat& coffee);
// Two people side by side: two face crops (the second mirrored) in one 640x480 frame.
cv::Mat TwoFaces(const cv::Mat& astronaut);
// The face in the top-left corner of a grey 640x480 frame.
cv::Mat OffCenter(const cv::Mat& astronaut);
// The photograph scaled by `scale` with the face centre at `at`, in a grey 640x480 frame (the
// face is about 93 pixels wide at scale 1).
cv::Mat Placed(const cv::Mat& astronaut, double scale, cv::Point2d at);

cv::Mat Darken(const cv::Mat& m, double gain = 0.18);
cv::Mat Brighten(const cv::Mat& m);
cv::Mat Blur(const cv::Mat& m, double sigma = 7.0);
// Strong light behind the subject: the face darkened, everything around it washed out.
cv::Mat Backlit(const cv::Mat& m);
cv::Mat Downscale(const cv::Mat& m, int width);
// A face photographed off a screen: the display's pixel grid beats with the camera's sampling
// into a fine periodic pattern (two crossed gratings a few pixels apart).
cv::Mat Moire(const cv::Mat& m, double strength = 0.22);
// A printed photograph held up to the camera: paper's narrower dynamic range, a warm tint and
// the softness of print and re-capture.
cv::Mat Printed(const cv::Mat& m);
// Sensor noise, as a real camera adds to every frame.
cv::Mat Noisy(const cv::Mat& m, int seed, double sigma = 2.5);
// A small translation (the subject moving a little between frames).
cv::Mat Shift(const cv::Mat& m, double dx, double dy);
// The Portrait() turning its head for a challenge step ("turn_left" or "turn_right", the steps
// vigil's sessions ask for; anything else: unchanged): the nose and mouth move against the eyes
// as in a real turn of about 25 degrees, by a smooth warp of the face (the photograph is flat,
// so this is the 2-D part of the turn that a keypoint-based pose estimate sees).
cv::Mat TurnHead(const cv::Mat& portrait, const std::string& step);

std::string EncodeJpeg(const cv::Mat& m, int quality = 90);
std::string EncodePng(const cv::Mat& m);

}  // namespace vigil::sim
