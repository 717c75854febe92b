DROP TABLE notify.mail;
