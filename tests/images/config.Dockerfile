# Every kind of metadata step, between layers, so that squashed configs and histories can
# be compared with the original's; two empty layers in a row (`RUN true`: the same diff_id
# twice in rootfs.diff_ids).
ARG BASE
FROM ${BASE}
LABEL org.example.title="config test" org.example.empty="" "with space"="v v"
ENV FOO=bar EMPTY= MULTI="a b  c"
RUN echo app1 > /app1
EXPOSE 8080/tcp 53/udp 9000
WORKDIR /srv/app
RUN echo app2 > app2 && adduser -D -u 1000 app 2>/dev/null || echo 'app:x:1000:1000::/srv/app:/bin/sh' >> /etc/passwd
RUN true
RUN true
RUN echo app3 > /app3
USER 1000:1000
VOLUME ["/data", "/cache"]
HEALTHCHECK --interval=5s --timeout=3s --start-period=1s --retries=2 CMD ["true"]
STOPSIGNAL SIGUSR1
ONBUILD RUN echo onbuild
SHELL ["/bin/sh", "-ec"]
ENTRYPOINT ["/bin/sh", "-c"]
CMD ["echo hi"]
ENV LAST=1
