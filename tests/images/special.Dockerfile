# Device nodes (character and block, large major/minor numbers) and fifos; replaced and
# deleted in later layers.
ARG BASE
FROM ${BASE}
RUN mkdir /s && mknod /s/null c 1 3 && mknod /s/loop b 7 0 && mknod /s/big c 4000 1000000 \
 && mkfifo /s/fifo && mkfifo /s/fifo2 && mknod /s/gone c 1 5 && chmod 620 /s/null
RUN rm /s/loop && mknod /s/loop b 7 1 && rm /s/gone && chown 5:6 /s/fifo && chmod 600 /s/fifo2
