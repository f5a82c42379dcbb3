// The write floor in C: `gcc -O2 -o /tmp/write-floor bench/write-floor/write-floor.c && /tmp/write-floor 1000 49 2500 300000`.
// N sockets, bursts of B 60-byte writes (one per socket) every P µs, T writes; a forked reader drains
// them with epoll. Prints the writer's CPU per write (the twin of write-floor.ts).
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <time.h>
#include <sys/socket.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
int main(int argc, char **argv) {
  int N = argc > 1 ? atoi(argv[1]) : 1000, B = argc > 2 ? atoi(argv[2]) : 49, P = argc > 3 ? atoi(argv[3]) : 2500;
  long T = argc > 4 ? atol(argv[4]) : 300000;
  int ls = socket(AF_INET, SOCK_STREAM, 0); struct sockaddr_in a = {0}; a.sin_family = AF_INET; a.sin_addr.s_addr = htonl(0x7f000001);
  bind(ls, (void*)&a, sizeof a); listen(ls, 4096); socklen_t l = sizeof a; getsockname(ls, (void*)&a, &l);
  pid_t pid = fork();
  if (pid == 0) { int ep = epoll_create1(0); for (int i = 0; i < N; i++) { int c = socket(AF_INET, SOCK_STREAM, 0); connect(c, (void*)&a, sizeof a); struct epoll_event e = {.events = EPOLLIN, .data.fd = c}; epoll_ctl(ep, EPOLL_CTL_ADD, c, &e); }
    char buf[65536]; struct epoll_event ev[256]; long got = 0; while (got < T * 60) { int n = epoll_wait(ep, ev, 256, 5000); if (n <= 0) break; for (int i = 0; i < n; i++) { ssize_t r = read(ev[i].data.fd, buf, sizeof buf); if (r > 0) got += r; } } _exit(0); }
  int *s = malloc(N * sizeof(int)); for (int i = 0; i < N; i++) { s[i] = accept(ls, 0, 0); int one = 1; setsockopt(s[i], IPPROTO_TCP, TCP_NODELAY, &one, sizeof one); }
  char msg[60]; memset(msg, 'x', 60); struct rusage r0, r1; getrusage(RUSAGE_SELF, &r0); struct timespec t0, t1; clock_gettime(CLOCK_MONOTONIC, &t0);
  long w = 0; int k = 0; struct timespec next = t0;
  while (w < T) { for (int b = 0; b < B && w < T; b++, w++) { write(s[k], msg, 60); k = (k + 1) % N; }
    if (P > 0) { next.tv_nsec += P * 1000L; while (next.tv_nsec >= 1000000000L) { next.tv_nsec -= 1000000000L; next.tv_sec++; } clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, 0); } }
  getrusage(RUSAGE_SELF, &r1); clock_gettime(CLOCK_MONOTONIC, &t1);
  double u = (r1.ru_utime.tv_sec - r0.ru_utime.tv_sec) * 1e6 + (r1.ru_utime.tv_usec - r0.ru_utime.tv_usec);
  double sy = (r1.ru_stime.tv_sec - r0.ru_stime.tv_sec) * 1e6 + (r1.ru_stime.tv_usec - r0.ru_stime.tv_usec);
  printf("N=%d B=%d P=%dus writes=%ld: %.2f us/write (user %.2f, sys %.2f), wall %.1f s\n", N, B, P, T, (u + sy) / T, u / T, sy / T, (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
  waitpid(pid, 0, 0); return 0; }
