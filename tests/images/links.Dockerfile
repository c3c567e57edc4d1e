# Hardlinks: both names survive unchanged; the target modified in a later layer (the other
# name keeps the OLD content); the target deleted later (the other names survive); a new
# name in a later layer for an older file; a metadata change of one name; links to the base
# image's hardlinked pair. Symlinks: absolute, relative, dangling, long targets, to dirs.
ARG BASE
FROM ${BASE}
RUN mkdir /h && echo same > /h/a && ln /h/a /h/b && echo old > /h/t && ln /h/t /h/t-link \
 && echo del > /h/d && ln /h/d /h/d-link && ln /h/d /h/d-link2 && echo three > /h/x \
 && ln /h/x /h/y && ln /h/x /h/z && mkdir /h/sub && ln /h/a /h/sub/a3
RUN echo new >> /h/t
RUN rm /h/d && ln /h/a /h/c && chmod 700 /h/x
RUN ln -s /h/a /h/abs && ln -s ../h/a /h/rel && ln -s /nonexistent/target /h/dangling \
 && ln -s "/$(printf 'long-target-%.0s' $(seq 1 20))" /h/longtarget && ln -s sub /h/dirlink \
 && ln -s . /h/self && echo more >> /usr/share/base/a && rm /h/sub/a3
RUN mkdir /o && echo of > /o/f && ln /o/f /h/of && echo r > /h/r && ln /h/r /h/r-link
RUN rm -rf /o && mkdir /o && echo n > /o/n && rm /h/r && echo new > /h/r
