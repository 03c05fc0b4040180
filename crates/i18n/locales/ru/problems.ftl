# Errors of the API (problem+json `title` and `detail`, by Accept-Language)
# and the pages that show the same refusals.

problem-unauthenticated = Требуется вход в систему
problem-bad-credentials = Неверный логин или пароль
problem-session-expired = Сеанс истёк — войдите снова
problem-throttled = Слишком много попыток входа
problem-throttled-detail = Повторите через { $minutes ->
        [one] { $minutes } минуту
        [few] { $minutes } минуты
       *[many] { $minutes } минут
    }.
problem-not-found = Не найдено
problem-forbidden = Недостаточно прав для этого действия
problem-wrong-state = Действие невозможно в текущем статусе запроса
problem-wrong-state-detail = Статус: «{ $status }» — { $action }
problem-concurrent-change = Запрос только что изменил другой пользователь — обновите страницу
problem-validation = Проверьте заполнение полей
problem-internal = Внутренняя ошибка сервера
problem-bad-request = Запрос не удалось разобрать
problem-quota-organization = Превышена квота загрузок организации: { $limit } МБ, уже занято { $used } МБ, файл { $requested } МБ. Обратитесь к администратору
problem-quota-user = Превышена ваша квота загрузок: { $limit } МБ, уже занято { $used } МБ, файл { $requested } МБ. Обратитесь к администратору
problem-files-missing = Запрос не отправлен: ещё не { $count ->
        [one] получен { $count } файл
        [few] получены { $count } файла
       *[many] получены { $count } файлов
    }: { $names }. Передайте их (tus, /api/v1/uploads) и повторите
problem-body-too-large = Тело запроса больше { $mib } МБ
problem-fhir-body-too-large = Тело запроса FHIR больше { $mib } МБ. Bundle не несёт файлов: передайте их по tus (/api/v1/uploads), а в DocumentReference укажите размер и SHA-256
problem-invalid-json = Неверный JSON: { $detail }
problem-invalid-path = Неверный адрес: { $detail }
problem-invalid-query = Неверные параметры запроса: { $detail }
problem-nul = Текст содержит недопустимый символ NUL (код 0)
problem-invalid-text = Файл должен быть текстом в кодировке UTF-8: { $detail }
fhir-search-unsupported = Параметр поиска не поддерживается: { $param }
fhir-body-not-json = Тело запроса — не JSON
fhir-search-by-request = Поиск по { $param }=ServiceRequest/<номер>
