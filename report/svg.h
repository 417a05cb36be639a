#pragma once

#include <string>
#include <utility>
#include <vector>

namespace ringfence {

// Builds one inline <svg> element. Every text and title passes through EscapeText; classes and
// numbers are ours. Coordinates are user units of the viewBox, so the picture scales with the
// page (a narrow screen) and prints sharp.
class Svg {
 public:
  // `label`: what the picture shows, for screen readers (role="img" + aria-label).
  Svg(double width, double height, const std::string& css_class, const std::string& label);

  // Attributes given as `name="value"` pairs are escaped; use them for data-* attributes.
  using Attributes = std::vector<std::pair<std::string, std::string>>;

  void OpenGroup(const std::string& css_class, const Attributes& attributes = {});
  void CloseGroup();
  // `title` (a tooltip, also read by screen readers) may be empty.
  void Rect(double x, double y, double w, double h, const std::string& css_class,
            const std::string& title = "", const Attributes& attributes = {});
  void Line(double x1, double y1, double x2, double y2, const std::string& css_class,
            const std::string& title = "");
  void Circle(double cx, double cy, double r, const std::string& css_class,
              const std::string& title = "");
  // A line through `points` (x, y), in order.
  void Polyline(const std::vector<std::pair<double, double>>& points, const std::string& css_class,
                const Attributes& attributes = {});
  // `anchor`: start, middle or end.
  void Text(double x, double y, const std::string& text, const std::string& css_class,
            const std::string& anchor = "start");

  std::string Finish();

 private:
  static std::string AttributesText(const Attributes& attributes);
  void Close(const std::string& element, const std::string& title);

  std::string out_;
  int open_groups_ = 0;
};

}  // namespace ringfence
