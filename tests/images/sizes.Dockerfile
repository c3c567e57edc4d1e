# File sizes around tar's 512-byte blocks, empty files, a sparse file (Docker stores it
# whole), large random files overwritten in place and truncated by later layers: the
# squashed layer must carry every byte of the right version.
ARG BASE
FROM ${BASE}
RUN mkdir /z && cd /z && : > empty && printf 1 > one && for n in 511 512 513 1023 1024 1025 10240; do \
   head -c $n /dev/urandom > b$n; done && head -c 20000000 /dev/urandom > big && cp big big-copy \
 && truncate -s 30000000 sparse && printf tail >> sparse && head -c 3000000 /dev/urandom > mid
RUN cd /z && dd if=/dev/urandom of=big bs=4096 seek=1000 count=10 conv=notrunc 2>/dev/null \
 && truncate -s 1000 big-copy && head -c 1 /dev/urandom >> b512 && : > b1024 && rm mid
RUN cd /z && head -c 5000000 /dev/urandom > mid && truncate -s 0 one && head -c 700 /dev/urandom > empty
