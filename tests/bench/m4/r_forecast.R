# r_forecast.R: R forecast-package peers for M4-format sets (M4 Hourly, the
# treasury outflow set), horizon 48, season 24.
# Usage: Rscript r_forecast.R TRAIN TEST EVERY OUT.csv [ETS_EVERY]
# snaive and thetaf on all series; auto.arima on series 1, 1+EVERY, ...;
# ets on series 1, 1+ETS_EVERY, ... (default: EVERY). A sMAPE term with
# actual and forecast both 0 counts 0, as in floatcast's metrics. Writes
# one row per (model, series) with the same metrics as m4_bench (M4
# definitions, scale = in-sample seasonal naive, m = 24), the wall seconds
# of each fit+forecast and its CPU seconds (user + system).
suppressMessages(library(forecast))
args <- commandArgs(TRUE)
tr <- read.csv(args[1], stringsAsFactors = FALSE)
te <- read.csv(args[2], stringsAsFactors = FALSE)
every <- as.integer(args[3])
ets_every <- if (length(args) >= 5) as.integer(args[5]) else every
h <- 48; m <- 24
rows <- list()
score <- function(model, id, x, y, fc, secs, cpu) {
  f <- as.numeric(fc$mean)
  lo80 <- as.numeric(fc$lower[, 1]); hi80 <- as.numeric(fc$upper[, 1])
  lo95 <- as.numeric(fc$lower[, 2]); hi95 <- as.numeric(fc$upper[, 2])
  scale <- mean(abs(diff(x, lag = m)))
  d <- abs(y) + abs(f)
  smape <- mean(ifelse(d > 0, 200 * abs(y - f) / d, 0))
  mase <- mean(abs(y - f)) / scale
  a <- 0.05
  msis <- mean((hi95 - lo95) + 2 / a * (lo95 - y) * (y < lo95) + 2 / a * (y - hi95) * (y > hi95)) / scale
  data.frame(model = model, series = id, smape = smape, mase = mase,
             cov80 = mean(y >= lo80 & y <= hi80), cov95 = mean(y >= lo95 & y <= hi95),
             msis = msis, secs = secs, cpu = cpu)
}
for (i in seq_len(nrow(tr))) {
  id <- tr[i, 1]
  x <- as.numeric(tr[i, -1]); x <- x[!is.na(x)]
  y <- as.numeric(te[i, -1])
  xt <- ts(x, frequency = m)
  run <- function(name, fn) {
    t0 <- proc.time()
    fc <- fn()
    d <- proc.time() - t0
    rows[[length(rows) + 1]] <<- score(name, id, x, y, fc, d[["elapsed"]],
                                       d[["user.self"]] + d[["sys.self"]])
  }
  run("R snaive", function() snaive(xt, h = h, level = c(80, 95)))
  run("R thetaf", function() thetaf(xt, h = h, level = c(80, 95)))
  if ((i - 1) %% ets_every == 0)
    run("R ets", function() forecast(ets(xt), h = h, level = c(80, 95)))
  if ((i - 1) %% every == 0)
    run("R auto.arima", function() forecast(auto.arima(xt), h = h, level = c(80, 95)))
}
write.csv(do.call(rbind, rows), args[4], row.names = FALSE, quote = FALSE)
