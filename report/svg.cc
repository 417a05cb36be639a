#include "report/svg.h"

#include "report/markup.h"

namespace ringfence {

Svg::Svg(double width, double height, const std::string& css_class, const std::string& label) {
  out_ = "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"" + EscapeText(css_class) +
         "\" viewBox=\"0 0 " + Fixed(width) + " " + Fixed(height) +
         "\" preserveAspectRatio=\"xMinYMin meet\" role=\"img\" aria-label=\"" + EscapeText(label) +
         "\">\n";
}

std::string Svg::AttributesText(const Attributes& attributes) {
  std::string text;
  for (const auto& [name, value] : attributes) {
    text += " " + EscapeText(name) + "=\"" + EscapeText(value) + "\"";
  }
  return text;
}

void Svg::Close(const std::string& element, const std::string& title) {
  if (title.empty()) {
    out_ += "/>\n";
  } else {
    out_ += "><title>" + EscapeText(title) + "</title></" + element + ">\n";
  }
}

void Svg::OpenGroup(const std::string& css_class, const Attributes& attributes) {
  out_ += "<g class=\"" + EscapeText(css_class) + "\"" + AttributesText(attributes) + ">\n";
  ++open_groups_;
}

void Svg::CloseGroup() {
  if (open_groups_ == 0) return;
  out_ += "</g>\n";
  --open_groups_;
}

void Svg::Rect(double x, double y, double w, double h, const std::string& css_class,
               const std::string& title, const Attributes& attributes) {
  out_ += "<rect class=\"" + EscapeText(css_class) + "\" x=\"" + Fixed(x) + "\" y=\"" + Fixed(y) +
          "\" width=\"" + Fixed(w < 0 ? 0 : w) + "\" height=\"" + Fixed(h < 0 ? 0 : h) + "\"" +
          AttributesText(attributes);
  Close("rect", title);
}

void Svg::Line(double x1, double y1, double x2, double y2, const std::string& css_class,
               const std::string& title) {
  out_ += "<line class=\"" + EscapeText(css_class) + "\" x1=\"" + Fixed(x1) + "\" y1=\"" +
          Fixed(y1) + "\" x2=\"" + Fixed(x2) + "\" y2=\"" + Fixed(y2) + "\"";
  Close("line", title);
}

void Svg::Circle(double cx, double cy, double r, const std::string& css_class,
                 const std::string& title) {
  out_ += "<circle class=\"" + EscapeText(css_class) + "\" cx=\"" + Fixed(cx) + "\" cy=\"" +
          Fixed(cy) + "\" r=\"" + Fixed(r) + "\"";
  Close("circle", title);
}

void Svg::Polyline(const std::vector<std::pair<double, double>>& points,
                   const std::string& css_class, const Attributes& attributes) {
  if (points.empty()) return;
  out_ += "<polyline class=\"" + EscapeText(css_class) + "\"" + AttributesText(attributes) +
          " points=\"";
  for (size_t i = 0; i < points.size(); ++i) {
    if (i) out_ += ' ';
    out_ += Fixed(points[i].first) + "," + Fixed(points[i].second);
  }
  out_ += "\"/>\n";
}

void Svg::Text(double x, double y, const std::string& text, const std::string& css_class,
               const std::string& anchor) {
  out_ += "<text class=\"" + EscapeText(css_class) + "\" x=\"" + Fixed(x) + "\" y=\"" + Fixed(y) +
          "\" text-anchor=\"" + EscapeText(anchor) + "\">" + EscapeText(text) + "</text>\n";
}

std::string Svg::Finish() {
  while (open_groups_ > 0) CloseGroup();
  out_ += "</svg>\n";
  return std::move(out_);
}

}  // namespace ringfence
