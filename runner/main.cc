#include <cstdio>

int main() {
  std::printf("ringfence %s\n", RINGFENCE_VERSION);
  return 0;
}
