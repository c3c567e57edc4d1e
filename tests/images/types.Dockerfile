# A path changes type between layers: dir->file, file->dir, file->symlink, symlink->dir,
# symlink->file, dir->symlink, file->fifo; and back again.
ARG BASE
FROM ${BASE}
RUN mkdir -p /t/d2f/sub /t/l2d_target /t/d2l && echo in > /t/d2f/sub/x && echo f > /t/f2d \
 && echo f > /t/f2l && ln -s /t/l2d_target /t/l2d && ln -s nowhere /t/l2f \
 && echo f > /t/f2p && echo x > /t/d2l/x && echo f > /t/back && mkdir /usr/share/base/d
RUN rm -rf /t/d2f && echo nowfile > /t/d2f && rm /t/f2d && mkdir /t/f2d && echo inside > /t/f2d/y \
 && rm /t/f2l && ln -s ../etc/passwd /t/f2l && rm /t/l2d && mkdir /t/l2d && echo z > /t/l2d/z \
 && rm /t/l2f && echo file > /t/l2f && rm /t/f2p && mkfifo /t/f2p && rm -r /t/d2l && ln -s /bin /t/d2l \
 && rm /t/back && mkdir /t/back && rm /usr/share/base/a && mkdir /usr/share/base/a \
 && rmdir /usr/share/base/d && ln -s a /usr/share/base/d
RUN rm -r /t/back && echo again-a-file > /t/back && rm -r /t/f2d && ln -s /etc /t/f2d \
 && rm -r /usr/share/base/a && echo file-again > /usr/share/base/a
