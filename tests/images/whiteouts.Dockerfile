# File whiteouts; deleted then recreated paths; deletions of files and directories that
# lower layers (the base image) made.
ARG BASE
FROM ${BASE}
RUN mkdir -p /w/keep /w/gone/deeper /w/redir && echo a > /w/a && echo b > /w/b \
 && echo c > /w/gone/c && echo d > /w/gone/deeper/d && echo keep > /w/keep/k \
 && echo r > /w/recreated && echo x > /w/redir/x && echo y > /w/redir/y
RUN rm /w/a && rm -r /w/gone && echo b2 > /w/b2 && rm /usr/share/base/b /opt/copied.txt
RUN rm /w/recreated /w/b2 && rm -r /w/redir && rm -r /usr/share/base/sub && rm /stack1
RUN echo again > /w/recreated && mkdir /w/redir && echo y2 > /w/redir/y && echo b2again > /w/b2 \
 && echo back > /stack1 && mkdir /usr/share/base/sub && echo new > /usr/share/base/sub/n
RUN rm /w/keep/k && rm /bin/vi /etc/motd && echo same-layer > /w/tmp && rm /w/tmp
