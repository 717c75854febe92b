//! Values between `spin:postgres@4.0.0` and tokio-postgres, mapped exactly as Spin
//! maps them, failures included: a `timestamptz` column is read as a timestamp
//! without time zone and therefore fails the query, as it does on Spin.

use std::error::Error as StdError;

use anyhow::{Context, anyhow};
use bytes::BytesMut;
use chrono::{Datelike, Timelike};
use postgres_range::{BoundSided, BoundType, Normalizable, Range, RangeBound};
use rust_decimal::Decimal;
use tokio_postgres::Row;
use tokio_postgres::types::{FromSql, IsNull, ToSql, Type, to_sql_checked};

use crate::bindings::spin::postgres::postgres::{
    DbDataType, DbValue, Interval, ParameterValue, RangeBoundKind,
};

type BoxError = Box<dyn StdError + Sync + Send>;

/// The WIT type of a result column.
pub fn data_type(ty: &Type) -> DbDataType {
    match *ty {
        Type::BOOL => DbDataType::Boolean,
        Type::BYTEA => DbDataType::Binary,
        Type::FLOAT4 => DbDataType::Floating32,
        Type::FLOAT8 => DbDataType::Floating64,
        Type::INT2 => DbDataType::Int16,
        Type::INT4 => DbDataType::Int32,
        Type::INT8 => DbDataType::Int64,
        Type::TEXT | Type::VARCHAR | Type::BPCHAR => DbDataType::Str,
        Type::TIMESTAMP | Type::TIMESTAMPTZ => DbDataType::Datetime,
        Type::DATE => DbDataType::Date,
        Type::TIME => DbDataType::Time,
        Type::UUID => DbDataType::Uuid,
        Type::JSONB => DbDataType::Jsonb,
        Type::NUMERIC => DbDataType::Decimal,
        Type::INT4_RANGE => DbDataType::RangeInt32,
        Type::INT8_RANGE => DbDataType::RangeInt64,
        Type::NUM_RANGE => DbDataType::RangeDecimal,
        Type::INT4_ARRAY => DbDataType::ArrayInt32,
        Type::INT8_ARRAY => DbDataType::ArrayInt64,
        Type::NUMERIC_ARRAY => DbDataType::ArrayDecimal,
        Type::TEXT_ARRAY | Type::VARCHAR_ARRAY | Type::BPCHAR_ARRAY => DbDataType::ArrayStr,
        Type::INTERVAL => DbDataType::Interval,
        _ => DbDataType::Other(ty.name().to_owned()),
    }
}

/// Reads column `index` of `row` as `T`, NULL becoming `db-null`.
fn read<'a, T: FromSql<'a>>(
    row: &'a Row,
    index: usize,
    convert: impl FnOnce(T) -> anyhow::Result<DbValue>,
) -> anyhow::Result<DbValue> {
    match row.try_get::<_, Option<T>>(index)? {
        Some(value) => convert(value),
        None => Ok(DbValue::DbNull),
    }
}

/// The value of column `index`.
pub fn value(row: &Row, index: usize) -> anyhow::Result<DbValue> {
    let ty = row.columns()[index].type_();
    match *ty {
        Type::BOOL => read(row, index, |v| Ok(DbValue::Boolean(v))),
        Type::BYTEA => read(row, index, |v| Ok(DbValue::Binary(v))),
        Type::FLOAT4 => read(row, index, |v| Ok(DbValue::Floating32(v))),
        Type::FLOAT8 => read(row, index, |v| Ok(DbValue::Floating64(v))),
        Type::INT2 => read(row, index, |v| Ok(DbValue::Int16(v))),
        Type::INT4 => read(row, index, |v| Ok(DbValue::Int32(v))),
        Type::INT8 => read(row, index, |v| Ok(DbValue::Int64(v))),
        Type::TEXT | Type::VARCHAR | Type::BPCHAR => read(row, index, |v| Ok(DbValue::Str(v))),
        // Spin reads both as a naive date-time, which `timestamptz` refuses.
        Type::TIMESTAMP | Type::TIMESTAMPTZ => read(row, index, |v: chrono::NaiveDateTime| {
            Ok(DbValue::Datetime((
                v.year(),
                u8::try_from(v.month())?,
                u8::try_from(v.day())?,
                u8::try_from(v.hour())?,
                u8::try_from(v.minute())?,
                u8::try_from(v.second())?,
                v.nanosecond(),
            )))
        }),
        Type::DATE => read(row, index, |v: chrono::NaiveDate| {
            Ok(DbValue::Date((
                v.year(),
                u8::try_from(v.month())?,
                u8::try_from(v.day())?,
            )))
        }),
        Type::TIME => read(row, index, |v: chrono::NaiveTime| {
            Ok(DbValue::Time((
                u8::try_from(v.hour())?,
                u8::try_from(v.minute())?,
                u8::try_from(v.second())?,
                v.nanosecond(),
            )))
        }),
        Type::UUID => read(row, index, |v: uuid::Uuid| Ok(DbValue::Uuid(v.to_string()))),
        Type::JSONB => read(row, index, |v: serde_json::Value| {
            Ok(DbValue::Jsonb(
                serde_json::to_vec(&v).context("invalid JSON from database")?,
            ))
        }),
        Type::NUMERIC => read(row, index, |v: Decimal| Ok(DbValue::Decimal(v.to_string()))),
        Type::INT4_RANGE => read(row, index, |v: Range<i32>| {
            Ok(DbValue::RangeInt32(range_to_wit(&v, |n| *n)))
        }),
        Type::INT8_RANGE => read(row, index, |v: Range<i64>| {
            Ok(DbValue::RangeInt64(range_to_wit(&v, |n| *n)))
        }),
        Type::NUM_RANGE => read(row, index, |v: Range<RangeableDecimal>| {
            Ok(DbValue::RangeDecimal(range_to_wit(&v, |d| d.0.to_string())))
        }),
        Type::INT4_ARRAY => read(row, index, |v| Ok(DbValue::ArrayInt32(v))),
        Type::INT8_ARRAY => read(row, index, |v| Ok(DbValue::ArrayInt64(v))),
        Type::NUMERIC_ARRAY => read(row, index, |v: Vec<Option<Decimal>>| {
            Ok(DbValue::ArrayDecimal(
                v.into_iter().map(|d| d.map(|d| d.to_string())).collect(),
            ))
        }),
        Type::TEXT_ARRAY | Type::VARCHAR_ARRAY | Type::BPCHAR_ARRAY => {
            read(row, index, |v| Ok(DbValue::ArrayStr(v)))
        }
        Type::INTERVAL => read(row, index, |v: PgInterval| Ok(DbValue::Interval(v.0))),
        _ => read(row, index, |v: RawValue| Ok(DbValue::Unsupported(v.0))),
    }
}

/// A statement parameter, boxed for tokio-postgres.
pub fn parameter(value: &ParameterValue) -> anyhow::Result<Box<dyn ToSql + Send + Sync>> {
    Ok(match value {
        ParameterValue::Boolean(v) => Box::new(*v),
        ParameterValue::Int8(v) => Box::new(*v),
        ParameterValue::Int16(v) => Box::new(*v),
        ParameterValue::Int32(v) => Box::new(*v),
        ParameterValue::Int64(v) => Box::new(*v),
        ParameterValue::Floating32(v) => Box::new(*v),
        ParameterValue::Floating64(v) => Box::new(*v),
        ParameterValue::Str(v) => Box::new(v.clone()),
        ParameterValue::Binary(v) => Box::new(v.clone()),
        ParameterValue::Date((y, m, d)) => Box::new(date(*y, *m, *d)?),
        ParameterValue::Time((h, min, s, ns)) => Box::new(time(*h, *min, *s, *ns)?),
        ParameterValue::Datetime((y, m, d, h, min, s, ns)) => Box::new(chrono::NaiveDateTime::new(
            date(*y, *m, *d)?,
            time(*h, *min, *s, *ns)?,
        )),
        ParameterValue::Timestamp(seconds) => Box::new(
            chrono::DateTime::<chrono::Utc>::from_timestamp(*seconds, 0)
                .ok_or_else(|| anyhow!("invalid epoch timestamp {seconds}"))?,
        ),
        ParameterValue::Uuid(v) => {
            Box::new(uuid::Uuid::parse_str(v).with_context(|| format!("invalid UUID {v}"))?)
        }
        ParameterValue::Jsonb(v) => Box::new(
            serde_json::from_slice::<serde_json::Value>(v)
                .with_context(|| format!("invalid JSON {}", String::from_utf8_lossy(v)))?,
        ),
        ParameterValue::Decimal(v) => Box::new(decimal(v)?),
        ParameterValue::RangeInt32(v) => Box::new(range_from_wit(v, |n| Ok(*n))?),
        ParameterValue::RangeInt64(v) => Box::new(range_from_wit(v, |n| Ok(*n))?),
        ParameterValue::RangeDecimal(v) => {
            Box::new(range_from_wit(v, |s| decimal(s).map(RangeableDecimal))?)
        }
        ParameterValue::ArrayInt32(v) => Box::new(v.clone()),
        ParameterValue::ArrayInt64(v) => Box::new(v.clone()),
        ParameterValue::ArrayDecimal(v) => Box::new(
            v.iter()
                .map(|d| d.as_deref().map(decimal).transpose())
                .collect::<anyhow::Result<Vec<_>>>()?,
        ),
        ParameterValue::ArrayStr(v) => Box::new(v.clone()),
        ParameterValue::Interval(v) => Box::new(PgInterval(*v)),
        ParameterValue::DbNull => Box::new(Null),
    })
}

fn date(y: i32, m: u8, d: u8) -> anyhow::Result<chrono::NaiveDate> {
    chrono::NaiveDate::from_ymd_opt(y, m.into(), d.into())
        .ok_or_else(|| anyhow!("invalid date y={y}, m={m}, d={d}"))
}

fn time(h: u8, min: u8, s: u8, ns: u32) -> anyhow::Result<chrono::NaiveTime> {
    chrono::NaiveTime::from_hms_nano_opt(h.into(), min.into(), s.into(), ns)
        .ok_or_else(|| anyhow!("invalid time {h}:{min}:{s}:{ns}"))
}

fn decimal(text: &str) -> anyhow::Result<Decimal> {
    Decimal::from_str_exact(text).with_context(|| format!("invalid decimal {text}"))
}

type WitBound<W> = Option<(W, RangeBoundKind)>;

fn range_to_wit<T: PartialOrd + Normalizable, W>(
    range: &Range<T>,
    convert: impl Fn(&T) -> W,
) -> (WitBound<W>, WitBound<W>) {
    fn bound<S: BoundSided, T, W>(
        b: &RangeBound<S, T>,
        convert: impl Fn(&T) -> W,
    ) -> (W, RangeBoundKind) {
        let kind = match b.type_ {
            BoundType::Inclusive => RangeBoundKind::Inclusive,
            BoundType::Exclusive => RangeBoundKind::Exclusive,
        };
        (convert(&b.value), kind)
    }
    (
        range.lower().map(|b| bound(b, &convert)),
        range.upper().map(|b| bound(b, &convert)),
    )
}

fn range_from_wit<T: PartialOrd + Normalizable, W>(
    (lower, upper): &(WitBound<W>, WitBound<W>),
    convert: impl Fn(&W) -> anyhow::Result<T>,
) -> anyhow::Result<Range<T>> {
    fn bound<S: BoundSided, T: PartialOrd, W>(
        (value, kind): &(W, RangeBoundKind),
        convert: impl Fn(&W) -> anyhow::Result<T>,
    ) -> anyhow::Result<RangeBound<S, T>> {
        let kind = match kind {
            RangeBoundKind::Inclusive => BoundType::Inclusive,
            RangeBoundKind::Exclusive => BoundType::Exclusive,
        };
        Ok(RangeBound::new(convert(value)?, kind))
    }
    let lower = lower.as_ref().map(|b| bound(b, &convert)).transpose()?;
    let upper = upper.as_ref().map(|b| bound(b, &convert)).transpose()?;
    Ok(Range::new(lower, upper))
}

/// A `numeric` range bound: continuous, so bounds are kept as written.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
struct RangeableDecimal(Decimal);

impl Normalizable for RangeableDecimal {
    fn normalize<S: BoundSided>(bound: RangeBound<S, Self>) -> RangeBound<S, Self> {
        bound
    }
}

impl<'a> FromSql<'a> for RangeableDecimal {
    fn from_sql(ty: &Type, raw: &'a [u8]) -> Result<Self, BoxError> {
        Decimal::from_sql(ty, raw).map(RangeableDecimal)
    }

    fn accepts(ty: &Type) -> bool {
        <Decimal as FromSql>::accepts(ty)
    }
}

impl ToSql for RangeableDecimal {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        self.0.to_sql(ty, out)
    }

    fn accepts(ty: &Type) -> bool {
        <Decimal as ToSql>::accepts(ty)
    }

    to_sql_checked!();
}

/// `interval` on the wire: microseconds, days, months (big-endian i64, i32, i32).
#[derive(Debug)]
struct PgInterval(Interval);

impl<'a> FromSql<'a> for PgInterval {
    fn from_sql(_: &Type, raw: &'a [u8]) -> Result<Self, BoxError> {
        let bytes: &[u8; 16] = raw.try_into().map_err(|_| "an interval is 16 bytes")?;
        let [
            m0,
            m1,
            m2,
            m3,
            m4,
            m5,
            m6,
            m7,
            d0,
            d1,
            d2,
            d3,
            n0,
            n1,
            n2,
            n3,
        ] = *bytes;
        Ok(PgInterval(Interval {
            micros: i64::from_be_bytes([m0, m1, m2, m3, m4, m5, m6, m7]),
            days: i32::from_be_bytes([d0, d1, d2, d3]),
            months: i32::from_be_bytes([n0, n1, n2, n3]),
        }))
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::INTERVAL
    }
}

impl ToSql for PgInterval {
    fn to_sql(&self, _: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        out.extend_from_slice(&self.0.micros.to_be_bytes());
        out.extend_from_slice(&self.0.days.to_be_bytes());
        out.extend_from_slice(&self.0.months.to_be_bytes());
        Ok(IsNull::No)
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::INTERVAL
    }

    to_sql_checked!();
}

/// A column of a type without a mapping: its bytes as the server sent them.
struct RawValue(Vec<u8>);

impl<'a> FromSql<'a> for RawValue {
    fn from_sql(_: &Type, raw: &'a [u8]) -> Result<Self, BoxError> {
        Ok(RawValue(raw.to_vec()))
    }

    fn accepts(_: &Type) -> bool {
        true
    }
}

/// `db-null`: NULL for a parameter of any type.
#[derive(Debug)]
struct Null;

impl ToSql for Null {
    fn to_sql(&self, _: &Type, _: &mut BytesMut) -> Result<IsNull, BoxError> {
        Ok(IsNull::Yes)
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    to_sql_checked!();
}
