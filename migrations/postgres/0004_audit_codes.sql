-- The audit log keeps codes, not words: outcomes written in the saver's language become stable codes,
-- rendered in the viewer's language when shown.
UPDATE audit_log SET outcome = 'saved' WHERE outcome IN ('saved', 'сохранено');
UPDATE audit_log SET outcome = 'conflict' WHERE outcome IN ('changed meanwhile', 'изменён другим');
UPDATE audit_log SET outcome = 'refused' WHERE outcome LIKE 'refused%' OR outcome LIKE 'отклонено%';
UPDATE audit_log SET outcome = 'refused' WHERE outcome NOT IN ('ok', 'saved', 'conflict', 'refused');
