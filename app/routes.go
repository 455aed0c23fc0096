package app

import (
	"context"
	"fmt"
	"net/http"

	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/common/version"

	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/web"
)

// routes is every path the exporter serves. Each read endpoint is behind readOnly, /-/reload behind
// lifecycleGuard (server.go).
func (a *app) routes(ctx context.Context, o Options) *http.ServeMux {
	mux := http.NewServeMux()
	var pulls web.Pulls
	mux.Handle(o.MetricsPath, readOnly(pulls.Wrap(a.ex.collector.Handler(a.selfReg, o.TimeoutOffset, a.ex.Timeout, a.logger))))
	mux.Handle("/-/healthy", readOnly(healthHandler()))
	mux.Handle("/-/ready", readOnly(textHandler("Ready")))
	mux.Handle("/-/reload", lifecycleGuard(o.Lifecycle, a.reloadHandler(ctx)))
	pages := &web.Pages{
		Name:        "Huawei Cloud Job Exporter",
		Version:     version.Info(),
		MetricsPath: o.MetricsPath,
		Demo:        o.Demo.Enabled,
		Jobs:        a.ex.collector.Snapshot,
		Config:      a.ex.ConfigText,
		LastPull:    pulls.Last,
		Status:      a.ex.status,
	}
	if o.Demo.Enabled && o.Demo.PullInterval > 0 {
		if u := selfPullURL(*o.Web.WebListenAddresses, *o.Web.WebConfigFile, o.MetricsPath); u != "" {
			pages.SelfPull = o.Demo.PullInterval
			go selfPull(ctx, u, o.Demo.PullInterval, demoPullTimeout, a.logger)
		}
	}
	mux.Handle("/config", readOnly(pages.ConfigHandler()))
	mux.Handle("/", readOnly(pages.LandingHandler()))
	mux.Handle("/exporter-metrics", readOnly(promhttp.HandlerFor(a.selfReg, promhttp.HandlerOpts{})))
	return mux
}

// reloadHandler is POST /-/reload: a reload through reloadLoop, answered with its outcome.
func (a *app) reloadHandler(ctx context.Context) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		done := make(chan error, 1)
		select {
		case a.reloads <- done:
		case <-r.Context().Done():
			return
		case <-ctx.Done():
			http.Error(w, "shutting down", http.StatusServiceUnavailable)
			return
		}
		// A reload stuck reading a credentials file must not pin this handler, or shutdown waits for it.
		select {
		case err := <-done:
			if err != nil {
				http.Error(w, "failed to reload config: "+err.Error(), http.StatusInternalServerError)
				return
			}
			fmt.Fprintln(w, "configuration reloaded")
		case <-r.Context().Done():
		case <-ctx.Done():
			http.Error(w, "shutting down", http.StatusServiceUnavailable)
		}
	})
}

func textHandler(text string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, text)
	})
}
