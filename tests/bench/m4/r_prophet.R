# r_prophet.R: R prophet (Debian r-cran-prophet) on a fixed subset of an
# M4-format hourly set (M4 Hourly, the treasury outflow set).
# Usage: Rscript r_prophet.R TRAIN TEST EVERY OUT.csv
# Series 1, 1+EVERY, ...; hourly timestamps from 2017-01-01 00:00 UTC (M4
# gives none; without holidays the origin only shifts the Fourier terms'
# phase), so prophet adds its automatic daily (order 4) and weekly
# (order 3) seasonalities, as floatcast's prophet@24,168. 80 % and 95 %
# bounds are quantiles of predictive_samples (1000 paths, prophet's
# default); the point forecast is yhat. Same metrics and timing columns as
# r_forecast.R (a sMAPE term with actual and forecast both 0 counts 0).
suppressMessages(library(prophet))
args <- commandArgs(TRUE)
tr <- read.csv(args[1], stringsAsFactors = FALSE)
te <- read.csv(args[2], stringsAsFactors = FALSE)
every <- as.integer(args[3])
h <- 48; m <- 24
rows <- list()
set.seed(42)
for (i in seq(1, nrow(tr), by = every)) {
  id <- tr[i, 1]
  x <- as.numeric(tr[i, -1]); x <- x[!is.na(x)]
  y <- as.numeric(te[i, -1])
  t0 <- proc.time()
  ds <- as.POSIXct("2017-01-01 00:00:00", tz = "UTC") + 3600 * (seq_along(x) - 1)
  fit <- suppressMessages(prophet(data.frame(ds = ds, y = x)))
  fut <- make_future_dataframe(fit, periods = h, freq = 3600, include_history = FALSE)
  f <- predict(fit, fut)$yhat
  s <- predictive_samples(fit, fut)$yhat
  q <- function(p) apply(s, 1, quantile, probs = p)
  lo80 <- q(0.1); hi80 <- q(0.9); lo95 <- q(0.025); hi95 <- q(0.975)
  d <- proc.time() - t0
  scale <- mean(abs(diff(x, lag = m)))
  a <- 0.05
  rows[[length(rows) + 1]] <- data.frame(
    model = "R prophet", series = id,
    smape = mean(ifelse(abs(y) + abs(f) > 0, 200 * abs(y - f) / (abs(y) + abs(f)), 0)),
    mase = mean(abs(y - f)) / scale,
    cov80 = mean(y >= lo80 & y <= hi80), cov95 = mean(y >= lo95 & y <= hi95),
    msis = mean((hi95 - lo95) + 2 / a * (lo95 - y) * (y < lo95) + 2 / a * (y - hi95) * (y > hi95)) / scale,
    secs = d[["elapsed"]], cpu = d[["user.self"]] + d[["sys.self"]])
}
write.csv(do.call(rbind, rows), args[4], row.names = FALSE, quote = FALSE)
