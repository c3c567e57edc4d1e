# Opaque directories: `rm -rf dir && mkdir dir` on overlay2 gives `dir/.wh..wh..opq`;
# nested (an opaque directory inside an opaque one), repeated (the same directory made
# opaque in several layers), emptied, and over a directory of the base image.
ARG BASE
FROM ${BASE}
RUN mkdir -p /op/a/b/c /op/keep && echo 1 > /op/a/1 && echo 2 > /op/a/b/2 \
 && echo 3 > /op/a/b/c/3 && echo k > /op/keep/k && echo top > /op/top
RUN rm -rf /op/a && mkdir -p /op/a/b && echo new1 > /op/a/b/new && echo n > /op/a/n
RUN rm -rf /op/a/b && mkdir /op/a/b && echo newer > /op/a/b/newer && echo more > /op/keep/more
RUN rm -rf /op && mkdir -p /op/a/b/c && echo final > /op/a/f && echo deep > /op/a/b/c/d
RUN rm -rf /op/a/b/c && mkdir /op/a/b/c && rm -rf /op/keep && mkdir /op/keep
RUN rm -rf /usr/share/base && mkdir /usr/share/base && echo replaced > /usr/share/base/only \
 && rm -rf /usr/share/stack && mkdir /usr/share/stack
RUN rm -rf /op/a && mkdir /op/a && echo again > /op/a/again && echo top2 > /op/top
