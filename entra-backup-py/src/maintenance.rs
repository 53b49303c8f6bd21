//! The options and reports of `Repository.check`, `forget` and `prune`.

use entra_backup::repo::check::{self, CheckOptions};
use entra_backup::repo::prune::{KeepPolicy, PruneOptions};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::args;
use crate::convert;
use crate::errors::invalid;

pub fn keep_policy(py: Python<'_>, keep: [i128; 6]) -> PyResult<KeepPolicy> {
    let [last, hourly, daily, weekly, monthly, yearly] = keep;
    Ok(KeepPolicy {
        last: args::whole(py, "keep_last", last)?,
        hourly: args::whole(py, "keep_hourly", hourly)?,
        daily: args::whole(py, "keep_daily", daily)?,
        weekly: args::whole(py, "keep_weekly", weekly)?,
        monthly: args::whole(py, "keep_monthly", monthly)?,
        yearly: args::whole(py, "keep_yearly", yearly)?,
    })
}

pub fn prune_options(
    py: Python<'_>,
    grace: Option<&Bound<'_, PyAny>>,
    dry_run: bool,
    max_unused: f64,
) -> PyResult<PruneOptions> {
    let seconds: f64 = match grace {
        None => 86_400.0,
        Some(g) => match g.call_method0("total_seconds") {
            Ok(s) => s.extract()?,
            Err(_) => g.extract().map_err(|_| invalid(py, "grace is a datetime.timedelta or a number of seconds"))?,
        },
    };
    if !seconds.is_finite() || seconds < 0.0 {
        return Err(invalid(py, format!("grace cannot be negative ({seconds} s)")));
    }
    if !(0.0..=1.0).contains(&max_unused) {
        return Err(invalid(py, format!("max_unused is a share from 0 to 1, not {max_unused}")));
    }
    Ok(PruneOptions { grace: jiff::SignedDuration::from_secs_f64(seconds), max_unused, dry_run })
}

pub fn read_data(py: Python<'_>, percent: f64) -> PyResult<CheckOptions> {
    if (0.0..=100.0).contains(&percent) {
        Ok(CheckOptions { read_data_percent: percent })
    } else {
        Err(invalid(py, format!("read_data_percent is a percentage from 0 to 100, not {percent}")))
    }
}

pub fn check_dict<'py>(py: Python<'py>, report: &check::CheckReport) -> PyResult<Bound<'py, PyAny>> {
    let d = convert::serialized(py, report)?.cast_into::<PyDict>()?;
    d.set_item("ok", report.ok())?;
    Ok(d.into_any())
}
