# The audit log as sentences (service/src/audit_text.rs). Every action
# message gets $who («Диспетчер Орлова М. И.»), $gender (female, male or
# other: the verb's form), $id (the object's number), $object (its name
# where it has one) and $login; what follows the colon is worded below.

audit-who = { $role } { $name }
audit-other = { $who }: { $action } { $object }
audit-user-named = { $name } ({ $login })
audit-user-id = пользователя № { $id }
audit-org-id = организация № { $id }
audit-and-more = { " " }и ещё { $count }

audit-view-consultation = { $who } { $gender ->
    [female] открыла
   *[other] открыл
} запрос № { $id }
audit-view-consultation-list = { $who } { $gender ->
    [female] просмотрела
   *[other] просмотрел
} список запросов
audit-view-consultation-events = { $who } { $gender ->
    [female] просмотрела
   *[other] просмотрел
} историю запроса № { $id }
audit-view-consultation-messages = { $who } { $gender ->
    [female] прочитала
   *[other] прочитал
} переписку по запросу № { $id }
audit-view-conclusion = { $who } { $gender ->
    [female] прочитала
   *[other] прочитал
} заключение по запросу № { $id }
audit-view-attachment-list = { $who } { $gender ->
    [female] просмотрела
   *[other] просмотрел
} список файлов запроса № { $id }
audit-view-attachment = { $who } { $gender ->
    [female] просмотрела
   *[other] просмотрел
} снимки файла № { $id }

audit-create = { $who } { $gender ->
    [female] создала
   *[other] создал
} черновик запроса № { $id }
audit-update = { $who } { $gender ->
    [female] изменила
   *[other] изменил
} черновик запроса № { $id }
audit-submit = { $who } { $gender ->
    [female] отправила
   *[other] отправил
} запрос № { $id }
audit-approve = { $who } { $gender ->
    [female] согласовала
   *[other] согласовал
} запрос № { $id }
audit-send-back = { $who } { $gender ->
    [female] вернула
   *[other] вернул
} запрос № { $id } врачу без согласования
audit-take = { $who } { $gender ->
    [female] взяла
   *[other] взял
} в работу запрос № { $id }
audit-return = { $who } { $gender ->
    [female] вернула
   *[other] вернул
} на доработку запрос № { $id }
audit-resubmit = { $who } { $gender ->
    [female] отправила
   *[other] отправил
} повторно запрос № { $id }
audit-reject = { $who } { $gender ->
    [female] отклонила
   *[other] отклонил
} запрос № { $id }
audit-assign = { $who } { $gender ->
    [female] назначила
   *[other] назначил
} консультанта по запросу № { $id }
audit-accept = { $who } { $gender ->
    [female] приняла
   *[other] принял
} запрос № { $id }
audit-decline = { $who } { $gender ->
    [female] отказалась
   *[other] отказался
} от запроса № { $id }
audit-schedule = { $who } { $gender ->
    [female] запланировала
   *[other] запланировал
} ВКС по запросу № { $id }
audit-start = { $who } { $gender ->
    [female] начала
   *[other] начал
} консультацию по запросу № { $id }
audit-ask = { $who } { $gender ->
    [female] задала
   *[other] задал
} вопрос по запросу № { $id }
audit-answer = { $who } { $gender ->
    [female] ответила
   *[other] ответил
} на вопрос по запросу № { $id }
audit-sign = { $who } { $gender ->
    [female] подписала
   *[other] подписал
} заключение по запросу № { $id }
audit-acknowledge = { $who } { $gender ->
    [female] ознакомилась
   *[other] ознакомился
} с заключением по запросу № { $id }
audit-escalate = { $who } { $gender ->
    [female] передала
   *[other] передал
} запрос № { $id } на федеральный уровень
audit-record-federal-conclusion = { $who } { $gender ->
    [female] внесла
   *[other] внёс
} федеральное заключение по запросу № { $id }
audit-cancel = { $who } { $gender ->
    [female] отменила
   *[other] отменил
} запрос № { $id }
audit-conclusion-write = { $who } { $gender ->
    [female] сохранила
   *[other] сохранил
} заключение по запросу № { $id }
audit-conclusion-correct = { $who } { $gender ->
    [female] начала
   *[other] начал
} исправление заключения по запросу № { $id }
audit-conclusion-correct-sign = { $who } { $gender ->
    [female] подписала
   *[other] подписал
} исправленное заключение по запросу № { $id }
audit-attach = { $who } { $gender ->
    [female] приложила
   *[other] приложил
} файл к запросу № { $id }
audit-read-attachment = { $who } { $gender ->
    [female] открыла
   *[other] открыл
} файл запроса № { $id }
audit-cms-signature-add = { $who } { $gender ->
    [female] приложила
   *[other] приложил
} подпись к документу № { $id }
audit-federal-resend = { $who } { $gender ->
    [female] отправила
   *[other] отправил
} повторно на федеральный уровень запрос № { $id }
audit-escalation-package = { $who } { $gender ->
    [female] сформировала
   *[other] сформировал
} пакет для федерального уровня по запросу № { $id }
audit-federal-manual = { $who } { $gender ->
    [female] внесла
   *[other] внёс
} вручную ответ федерального уровня по запросу № { $id }
audit-video-book = { $who } { $gender ->
    [female] назначила
   *[other] назначил
} видеоконсультацию № { $id }
audit-video-cancel = { $who } { $gender ->
    [female] отменила
   *[other] отменил
} видеоконсультацию № { $id }

audit-login = { $who } { $gender ->
    [female] вошла
   *[other] вошёл
} в систему
audit-logout = { $who } { $gender ->
    [female] вышла
   *[other] вышел
} из системы
audit-login-failed = Неудачная попытка входа под логином «{ $login }»
audit-login-refused = Вход под логином «{ $login }» не разрешён
audit-demo-account-disabled = Демонстрационная учётная запись «{ $login }» отключена
audit-session-end = { $who } { $gender ->
    [female] завершила
   *[other] завершил
} сеанс № { $id }
audit-session-end-others = { $who } { $gender ->
    [female] завершила
   *[other] завершил
} свои сеансы на других устройствах
audit-token-create = { $who } { $gender ->
    [female] выпустила
   *[other] выпустил
} API-токен № { $id }
audit-password-change = { $who } { $gender ->
    [female] сменила
   *[other] сменил
} свой пароль
audit-totp-enable = { $who } { $gender ->
    [female] включила
   *[other] включил
} вход с одноразовым кодом
audit-calendar-feed-new = { $who } { $gender ->
    [female] создала
   *[other] создал
} ссылку на свой календарь ВКС
audit-calendar-feed-revoke = { $who } { $gender ->
    [female] отозвала
   *[other] отозвал
} ссылку на свой календарь ВКС
audit-fhir-subscribe = { $who } { $gender ->
    [female] подписала
   *[other] подписал
} внешнюю систему на уведомления FHIR (подписка № { $id })
audit-fhir-unsubscribe = { $who } { $gender ->
    [female] отменила
   *[other] отменил
} подписку FHIR № { $id }

audit-user-create = { $who } { $gender ->
    [female] создала
   *[other] создал
} учётную запись { $object }
audit-user-update = { $who } { $gender ->
    [female] изменила
   *[other] изменил
} учётную запись { $object }
audit-user-deactivate = { $who } { $gender ->
    [female] отключила
   *[other] отключил
} учётную запись { $object }
audit-user-unlock = { $who } { $gender ->
    [female] разблокировала
   *[other] разблокировал
} учётную запись { $object }
audit-password-reset = { $who } { $gender ->
    [female] сбросила
   *[other] сбросил
} пароль учётной записи { $object }
audit-role-add = { $who } { $gender ->
    [female] выдала
   *[other] выдал
} роль учётной записи { $object }
audit-role-remove = { $who } { $gender ->
    [female] забрала
   *[other] забрал
} роль у учётной записи { $object }
audit-org-create = { $who } { $gender ->
    [female] создала
   *[other] создал
} организацию «{ $object }»
audit-org-update = { $who } { $gender ->
    [female] изменила
   *[other] изменил
} организацию «{ $object }»
audit-route-set = { $who } { $gender ->
    [female] изменила
   *[other] изменил
} маршрут: { $object }
audit-settings-update = { $who } { $gender ->
    [female] изменила
   *[other] изменил
} настройки региона
audit-icd10-import = { $who } { $gender ->
    [female] загрузила
   *[other] загрузил
} новый справочник МКБ-10

audit-list-fhir = через FHIR
audit-list-open = все открытые
audit-list-statuses = статус: { $list }
audit-list-form = форма помощи: { $form }
audit-list-profile = профиль: { $profile }
audit-list-org = от организации: { $org }
audit-list-tkc = ТКЦ: { $org }
audit-list-overdue = только просроченные
audit-list-not-overdue = только не просроченные
audit-list-search-number = поиск по номеру: { $digits } { $digits ->
    [one] цифра
    [few] цифры
   *[many] цифр
}
audit-list-search-name = поиск по имени: { $words } { $words ->
    [one] слово
    [few] слова
   *[many] слов
}, { $chars } { $chars ->
    [one] знак
    [few] знака
   *[many] знаков
}
audit-list-updated = изменённые { $op } { $at }
audit-list-practitioner = консультант: { $name }
audit-list-owner = у организации: { $org }
audit-list-request = запрос № { $id }
audit-list-no-filter = без фильтра
audit-list-found = { $count ->
    [0] ничего не найдено
    [one] показан { $count } запрос: № { $ids }
    [few] показаны { $count } запроса: № { $ids }
   *[many] показаны { $count } запросов: № { $ids }
}
audit-files-shown = { $count ->
    [one] { $count } файл: № { $ids }
    [few] { $count } файла: № { $ids }
   *[many] { $count } файлов: № { $ids }
}
audit-page-conclusion = с заключением (версия { $version })
audit-page-only = страница запроса
audit-frames = файл № { $attachment }, исследование { $study }, серия { $series } { $title }
audit-version = версия { $version }
audit-file-no = файл № { $id }
audit-attached = файл № { $attachment } «{ $name }», { $size }
audit-fields = поля { $list }
audit-nothing-changed = без изменений
audit-yes = да
audit-no = нет
audit-video-booked = { $starts }, { $minutes } мин, участники: { $people }
audit-role-in = «{ $role }» в организации «{ $org }»
audit-transition = «{ $from }» → «{ $to }»
audit-message-no = сообщение № { $id }
audit-records = { $count } { $count ->
    [one] запись
    [few] записи
   *[many] записей
}
audit-sessions = { $count } { $count ->
    [one] сеанс
    [few] сеанса
   *[many] сеансов
}
audit-files = { $count } { $count ->
    [one] файл
    [few] файла
   *[many] файлов
}
audit-reason-unknown-login = такого логина нет или он отключён
audit-reason-wrong-password = неверный пароль
audit-reason-wrong-code = неверный одноразовый код
audit-reason-locked = учётная запись временно заблокирована
audit-reason-needs-code = для входа нужен одноразовый код (API-токен)
audit-reason-demo-password = пароль демонстрационного стенда при запуске
audit-duty-ack = { $who } { $gender ->
    [female] подтвердила
   *[other] подтвердил
} получение экстренного запроса № { $id }
audit-duty-pass = Дежурный не подтвердил получение запроса № { $id } вовремя: запрос передан резервному
audit-duty-alarm = Никто из дежурных не подтвердил получение запроса № { $id }: тревога диспетчерам КТЦ
audit-duty-shift-add = { $who } { $gender ->
    [female] добавила
   *[other] добавил
} смену в график дежурств
audit-duty-shift-delete = { $who } { $gender ->
    [female] удалила
   *[other] удалил
} смену из графика дежурств
audit-duty-import = { $who } { $gender ->
    [female] загрузила
   *[other] загрузил
} график дежурств: { $object }
audit-duty-absence-add = { $who } { $gender ->
    [female] отметила
   *[other] отметил
} отсутствие: { $object }
audit-duty-absence-delete = { $who } { $gender ->
    [female] сняла
   *[other] снял
} отметку об отсутствии: { $object }
audit-duty-show-phone = { $who } { $gender ->
    [female] изменила
   *[other] изменил
} показ телефонов на доске дежурств: { $object }
audit-duty-calendar = { $who } { $gender ->
    [female] загрузила
   *[other] загрузил
} производственный календарь на { $id } год
