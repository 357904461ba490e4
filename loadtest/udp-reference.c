/* The physical reference of the lecture benchmark: how many 1200-byte UDP packets one
 * core sends on this machine to a loopback sink, in a tight sendto() loop. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
  double seconds = argc > 1 ? atof(argv[1]) : 2.0;
  int sink = socket(AF_INET, SOCK_DGRAM, 0), out = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in addr = {0};
  socklen_t len = sizeof addr;
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(sink, (struct sockaddr *)&addr, sizeof addr) != 0) return 1;
  getsockname(sink, (struct sockaddr *)&addr, &len);
  char packet[1200];
  memset(packet, 0x5a, sizeof packet);
  struct timespec start, now;
  clock_gettime(CLOCK_MONOTONIC, &start);
  long sent = 0;
  for (;;) {
    for (int i = 0; i < 1000; i++)
      if (sendto(out, packet, sizeof packet, 0, (struct sockaddr *)&addr, sizeof addr) > 0) sent++;
    clock_gettime(CLOCK_MONOTONIC, &now);
    double elapsed = (now.tv_sec - start.tv_sec) + (now.tv_nsec - start.tv_nsec) / 1e9;
    if (elapsed >= seconds) {
      printf("%.0f\n", sent / elapsed);
      return 0;
    }
  }
}
