# r_models.R: R forecast peers on one series. Usage:
#   Rscript r_models.R TRAIN.csv H M OUTDIR   (TRAIN: long form, one series)
# Writes OUTDIR/r_<model>.csv in floatcast's forecast format and prints
# each model's wall seconds.
suppressMessages(library(forecast))
a <- commandArgs(TRUE)
x <- read.csv(a[1])$value; h <- as.integer(a[2]); m <- as.integer(a[3])
xt <- ts(x, frequency = m)
fits <- list(ets = function() forecast(ets(xt), h = h, level = c(80, 95)),
             auto.arima = function() forecast(auto.arima(xt), h = h, level = c(80, 95)),
             thetaf = function() thetaf(xt, h = h, level = c(80, 95)),
             snaive = function() snaive(xt, h = h, level = c(80, 95)))
for (nm in names(fits)) {
  t0 <- proc.time()[["elapsed"]]
  fc <- fits[[nm]]()
  s <- proc.time()[["elapsed"]] - t0
  d <- data.frame(series_id = "r", step = 1:h, timestamp = "", mean = as.numeric(fc$mean),
                  lo80 = fc$lower[, 1], hi80 = fc$upper[, 1], lo95 = fc$lower[, 2], hi95 = fc$upper[, 2])
  write.csv(d, file.path(a[4], paste0("r_", nm, ".csv")), row.names = FALSE, quote = FALSE)
  cat(nm, s, "\n")
}
