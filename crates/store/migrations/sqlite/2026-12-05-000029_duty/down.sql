DROP TABLE duty_calls;
DROP TABLE calendar_days;
DROP TABLE duty_absences;
DROP TABLE duty_shifts;
