//! Stage 3, the writer: finished days into the sink, grouped as the sink's `Batching`
//! asks (one at a time for DuckDB, in chunks for BigQuery), all or nothing per write.
//! Only whole days reach the sink. It tallies written and failed days into the run's
//! outcome and tells the progress; it sends no request.

use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::error::Result;
use crate::model::{DayBatch, Project};
use crate::sinks::{Batching, Sink};

use super::assemble::DayOutcome;
use super::outcome::{FailedDay, Progress, RunOutcome};

/// The writer's state for one project's run.
pub(super) struct DayWriter<'a, S> {
    sink: &'a mut S,
    batching: Batching,
    progress: &'a dyn Progress,
    project: &'a Project,
    outcome: &'a mut RunOutcome,
    buffer: Vec<DayBatch>,
    /// When the first day of the buffer arrived: a slow (throttled) backfill into a
    /// chunking sink still commits every `max_age`, so a kill loses little.
    oldest: Option<Instant>,
}

impl<'a, S: Sink> DayWriter<'a, S> {
    pub(super) fn new(
        sink: &'a mut S,
        progress: &'a dyn Progress,
        project: &'a Project,
        outcome: &'a mut RunOutcome,
    ) -> Self {
        let mut batching = sink.batching();
        batching.max_days = batching.max_days.max(1);
        DayWriter {
            sink,
            batching,
            progress,
            project,
            outcome,
            buffer: Vec::new(),
            oldest: None,
        }
    }

    /// Writes every ready day from `rx` until it is done.
    pub(super) async fn run(mut self, mut rx: mpsc::Receiver<DayOutcome>) -> Result<()> {
        let mut open = true;
        while open || !self.buffer.is_empty() {
            if open {
                open = self.receive(&mut rx).await;
            }
            if self.should_write(open) {
                self.write().await?;
            }
        }
        Ok(())
    }

    /// Waits for one outcome (or the age deadline), then takes whatever else is ready.
    /// Returns whether more may come.
    async fn receive(&mut self, rx: &mut mpsc::Receiver<DayOutcome>) -> bool {
        let received = match self.oldest {
            Some(t) => tokio::time::timeout_at(t + self.batching.max_age, rx.recv())
                .await
                .ok(),
            None => Some(rx.recv().await),
        };
        let mut open = true;
        match received {
            Some(Some(outcome)) => self.take(outcome),
            Some(None) => open = false,
            None => {} // the deadline passed
        }
        while open && self.buffer.len() < self.batching.max_days {
            match rx.try_recv() {
                Ok(outcome) => self.take(outcome),
                Err(mpsc::error::TryRecvError::Empty) => break,
                Err(mpsc::error::TryRecvError::Disconnected) => open = false,
            }
        }
        if !self.buffer.is_empty() {
            self.oldest.get_or_insert_with(Instant::now);
        }
        open
    }

    /// Whether the buffer goes to the sink now, as the sink's batching asks.
    fn should_write(&self, open: bool) -> bool {
        let Batching {
            max_days,
            max_age,
            flush_partial,
        } = self.batching;
        let due = self.oldest.is_some_and(|t| t.elapsed() >= max_age);
        !self.buffer.is_empty() && (!open || self.buffer.len() >= max_days || flush_partial || due)
    }

    async fn write(&mut self) -> Result<()> {
        self.sink.write_days(&self.buffer).await?;
        self.oldest = None;
        for batch in self.buffer.drain(..) {
            count(self.outcome, self.progress, &batch);
        }
        Ok(())
    }

    fn take(&mut self, outcome: DayOutcome) {
        match outcome {
            DayOutcome::Ready(batch) => self.buffer.push(batch),
            DayOutcome::Failed(day, error) => {
                let project = self.project;
                tracing::error!(%project, %day, %error, "Day failed; it stays missing until the next run.");
                self.progress.day_failed(project, day, &error);
                self.outcome.days_failed.push(FailedDay {
                    project: project.clone(),
                    day,
                    error,
                });
            }
        }
    }
}

/// Tallies a day the sink has stored into the run's outcome and tells the progress.
pub(super) fn count(outcome: &mut RunOutcome, progress: &dyn Progress, batch: &DayBatch) {
    let project = &batch.project;
    outcome.days_written += 1;
    outcome.rows_written += batch.rows.len() as u64;
    let suspect = batch
        .rows
        .iter()
        .filter(|r| r.assessment.suspect.is_some())
        .count();
    outcome.tally(project).add(batch.rows.len(), suspect);
    tracing::info!(%project, day = %batch.date, rows = batch.rows.len(), suspect, "Stored day.");
    progress.day_written(project, batch.date, batch.rows.len());
}
